"""Wire the Set up buttons (App Home) and modal submissions into the Bolt app.

Buttons ack at once, then check the clicker (an admin of the button's workspace) before opening a
modal or changing anything; submissions check the submitter and the view's workspace before reading
the form. A refusal is said in a small modal; nothing is changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.registry import ADAPTERS
from bot.installs.workspace import WorkspaceKey
from bot.workspaces.settings import SettingsBusy, WorkspaceSettingsStore
from handlers.context import Services
from handlers.home import home_view, missing_scopes
from handlers.request_services import request_services
from handlers.setup import home_blocks as home
from handlers.setup import route_form, status_form, threshold_form, vendor_form
from handlers.setup.answer import Answer, answer_within
from handlers.setup.changes import Change, ListName, Stale, digest, remove_entry, remove_vendor
from handlers.setup.guard import refusal
from handlers.setup.meta import ButtonTarget, FormKind, SetupMeta
from handlers.setup.submissions import route_submission, status_submission, threshold_submission, vendor_submission
from handlers.setup.views import message_modal

log = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[None]]
GONE = "That isn't set up in Slack any more; the App Home shows what is."


@dataclass(frozen=True)
class Setup:
    """One admitted setup request: an admin of ``workspace`` acting through ``client``."""

    services: Services
    store: WorkspaceSettingsStore
    workspace: WorkspaceKey
    user_id: str
    client: AsyncWebClient


#: A button's work, given the request and the button's target; ``trigger_id`` opens a modal.
ButtonWork = Callable[[Setup, ButtonTarget, str], Awaitable[None]]
#: A submission's work: the request, the view's metadata and ``state.values``; the ack is the caller's.
SubmitWork = Callable[[Setup, SetupMeta, dict[str, Any]], Awaitable[Answer]]


def register_setup(app: AsyncApp, services: Services) -> None:
    """Attach the Set up buttons and modal submissions."""
    app.action(home.ADD_VENDOR)(_button(services, _open_pick))
    app.action(home.EDIT_VENDOR)(_button(services, _open_vendor_edit))
    app.action(home.REMOVE_VENDOR)(_button(services, _remove_vendor))
    app.action(home.ADD_ROUTE)(_button(services, _open_route))
    app.action(home.EDIT_ROUTE)(_button(services, _open_route))
    app.action(home.REMOVE_ROUTE)(_button(services, _remove("routes")))
    app.action(home.ADD_THRESHOLD)(_button(services, _open_threshold))
    app.action(home.REMOVE_THRESHOLD)(_button(services, _remove("queue_thresholds")))
    app.action(home.EDIT_STATUS)(_button(services, _open_status))
    app.view(status_form.CALLBACK)(_submission(services, "status", _on_status))
    app.view(vendor_form.PICK_CALLBACK)(_submission(services, "pick", _on_pick))
    app.view(vendor_form.FORM_CALLBACK)(_submission(services, "vendor", _on_vendor))
    app.view(route_form.CALLBACK)(_submission(services, "route", _on_route))
    app.view(threshold_form.CALLBACK)(_submission(services, "threshold", _on_threshold))


async def publish_home(services: Services, client: AsyncWebClient, user_id: str) -> None:
    """Publish ``user_id``'s Home again, so it shows what was just changed."""
    try:
        view = await home_view(services, user_id=user_id, missing_scopes=lambda: missing_scopes(services, client))
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("could not publish the Home after a setup change (%s)", exc.response.get("error"))


async def _admit(services: Services, client: AsyncWebClient, user_id: str, scope: str | None) -> Setup | str:
    why = await refusal(services, user_id, scope)
    if why is not None or services.settings is None or services.workspace is None:
        return why or "Setup isn't available here."
    return Setup(services, services.settings, services.workspace, user_id, client)


def _button(services: Services, work: ButtonWork) -> Listener:
    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        here = request_services(context, services)
        user_id = str((body.get("user") or {}).get("id"))
        target = ButtonTarget.load(action.get("value"))
        trigger = str(body.get("trigger_id") or "")
        admitted = await _admit(here, client, user_id, target.scope if target else None)
        if isinstance(admitted, str) or target is None:
            text = admitted if isinstance(admitted, str) else "That button is not one phonebot made."
            await client.views_open(trigger_id=trigger, view=message_modal("Set up", text))
            return
        await work(admitted, target, trigger)

    listener.__name__ = f"setup_{getattr(work, '__name__', 'button').strip('_')}"
    return listener


async def _open_pick(setup: Setup, target: ButtonTarget, trigger: str) -> None:
    taken = set(home.file_vendors(setup.services)) | set((await setup.store.load(setup.workspace)).vendors)
    await setup.client.views_open(trigger_id=trigger, view=vendor_form.pick_modal(setup.workspace.scope, taken))


async def _open_vendor_edit(setup: Setup, target: ButtonTarget, trigger: str) -> None:
    section = (await setup.store.load(setup.workspace)).vendors.get(target.item)
    if section is None or target.item not in ADAPTERS or target.item in home.file_vendors(setup.services):
        view = message_modal("Set up", GONE)
    else:
        view = vendor_form.vendor_modal(setup.workspace.scope, target.item, stored=section)
    await setup.client.views_open(trigger_id=trigger, view=view)


async def _open_route(setup: Setup, target: ButtonTarget, trigger: str) -> None:
    stored = await setup.store.load(setup.workspace)
    vendors = home.configured_vendors(setup.services, stored)
    scope = setup.workspace.scope
    if target.index is None:
        view = route_form.route_modal(scope, vendors)
    elif target.index < len(stored.routes) and digest(stored.routes[target.index]) == target.digest:
        route = stored.routes[target.index]
        view = route_form.route_modal(scope, vendors, current=route, index=target.index, was=target.digest)
    else:
        view = message_modal("Set up", GONE)
    await setup.client.views_open(trigger_id=trigger, view=view)


async def _open_threshold(setup: Setup, target: ButtonTarget, trigger: str) -> None:
    vendors = home.configured_vendors(setup.services, await setup.store.load(setup.workspace))
    await setup.client.views_open(
        trigger_id=trigger, view=threshold_form.threshold_modal(setup.workspace.scope, vendors)
    )


async def _open_status(setup: Setup, target: ButtonTarget, trigger: str) -> None:
    status = (await setup.store.load(setup.workspace)).status
    await setup.client.views_open(trigger_id=trigger, view=status_form.status_modal(setup.workspace.scope, status))


async def _remove_vendor(setup: Setup, target: ButtonTarget, trigger: str) -> None:
    await _apply(setup, remove_vendor(target.item))


def _remove(name: ListName) -> ButtonWork:
    async def work(setup: Setup, target: ButtonTarget, trigger: str) -> None:
        if target.index is not None and target.digest:
            await _apply(setup, remove_entry(name, target.index, target.digest))
        else:
            await publish_home(setup.services, setup.client, setup.user_id)

    work.__name__ = f"remove_{name}"
    return work


async def _apply(setup: Setup, change: Change) -> None:
    """Apply a removal, then publish the Home again (it shows what is there now either way)."""
    try:
        await setup.store.update(setup.workspace, change, by=setup.user_id)
        log.info("%s: %s removed a setting from Slack", setup.workspace.describe(), setup.user_id)
    except (Stale, SettingsBusy):
        log.info(
            "%s: a setup removal did not apply (already gone, or another save held it)", setup.workspace.describe()
        )
    await publish_home(setup.services, setup.client, setup.user_id)


def _submission(services: Services, form: FormKind, work: SubmitWork) -> Listener:
    async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        started = asyncio.get_running_loop().time()
        here = request_services(context, services)
        user_id = str((body.get("user") or {}).get("id"))
        view = body.get("view") or {}
        meta = SetupMeta.load(view.get("private_metadata"))
        if meta is not None and meta.form != form:
            meta = None
        admitted = await _admit(here, client, user_id, meta.scope if meta else None)
        if isinstance(admitted, str) or meta is None:
            text = admitted if isinstance(admitted, str) else "That form is not one phonebot made. Nothing was changed."
            await ack(response_action="update", view=message_modal("Not saved", text))
            return
        state = (view.get("state") or {}).get("values") or {}
        pending = message_modal("Working\u2026", ":hourglass_flowing_sand: Saving\u2026")
        if form == "vendor":
            pending = vendor_form.checking_modal(meta.scope, meta.vendor or "")
        answer = await answer_within(
            ack,
            client,
            view_id=str(view.get("id") or ""),
            work=work(admitted, meta, state if isinstance(state, dict) else {}),
            pending=pending,
            started=started,
        )
        if answer.saved:
            await publish_home(here, client, user_id)

    listener.__name__ = f"setup_submit_{form}"
    return listener


async def _on_pick(setup: Setup, meta: SetupMeta, state: dict[str, Any]) -> Answer:
    vendor = vendor_form.picked_vendor(state)
    taken = set(home.file_vendors(setup.services)) | set((await setup.store.load(setup.workspace)).vendors)
    if vendor is None or vendor in taken:
        problem = "Pick a phone system that is not set up yet."
        return Answer(
            view=vendor_form.pick_modal(setup.workspace.scope, taken), errors={vendor_form.PICK_BLOCK: problem}
        )
    return Answer(view=vendor_form.vendor_modal(setup.workspace.scope, vendor))


async def _on_vendor(setup: Setup, meta: SetupMeta, state: dict[str, Any]) -> Answer:
    return await vendor_submission(
        setup.store, setup.workspace, meta, state, user_id=setup.user_id, file_vendors=home.file_vendors(setup.services)
    )


async def _on_route(setup: Setup, meta: SetupMeta, state: dict[str, Any]) -> Answer:
    vendors = home.configured_vendors(setup.services, await setup.store.load(setup.workspace))
    return await route_submission(setup.store, setup.workspace, meta, state, user_id=setup.user_id, vendors=vendors)


async def _on_threshold(setup: Setup, meta: SetupMeta, state: dict[str, Any]) -> Answer:
    vendors = home.configured_vendors(setup.services, await setup.store.load(setup.workspace))
    return await threshold_submission(setup.store, setup.workspace, state, user_id=setup.user_id, vendors=vendors)


async def _on_status(setup: Setup, meta: SetupMeta, state: dict[str, Any]) -> Answer:
    return await status_submission(setup.store, setup.workspace, state, user_id=setup.user_id)
