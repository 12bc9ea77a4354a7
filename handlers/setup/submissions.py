"""What each setup modal's submission does, as an :class:`~handlers.setup.answer.Answer`.

The caller has checked who submitted and for which workspace (:mod:`handlers.setup.guard`).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from adapters.redaction import SECRETS
from adapters.registry import ADAPTERS
from bot.installs.workspace import WorkspaceKey
from bot.mrkdwn import escape
from bot.workspaces.settings import SettingsBusy, WorkspaceSettings, WorkspaceSettingsStore
from handlers.setup.answer import Answer
from handlers.setup.changes import Change, Full, Stale, put_entry, put_vendor
from handlers.setup.meta import SetupMeta
from handlers.setup.probe import probe_vendor
from handlers.setup.route_form import read_route_form, route_modal
from handlers.setup.status_form import read_status_form
from handlers.setup.threshold_form import read_threshold_form
from handlers.setup.vendor_fields import read_vendor_form
from handlers.setup.vendor_form import saved_modal, typed_values, vendor_modal, vendor_name
from handlers.setup.views import message_modal

log = logging.getLogger(__name__)

BUSY = "Another admin was saving this workspace's settings at the same moment. Nothing was changed; try again."
STALE = "This changed since you opened the form (another admin?). Nothing was changed; close it and look again."
FULL = "This workspace already keeps as many of these as phonebot allows. Remove one first."


async def vendor_submission(
    store: WorkspaceSettingsStore,
    workspace: WorkspaceKey,
    meta: SetupMeta,
    state: dict[str, Any],
    *,
    user_id: str,
    file_vendors: frozenset[str],
) -> Answer:
    """Validate the vendor form, check the vendor for real, and save the section when it answered."""
    vendor = meta.vendor or ""
    if vendor not in ADAPTERS or vendor in file_vendors:
        why = f"The config file sets {escape(vendor_name(vendor))}; change it there." if vendor in ADAPTERS else ""
        return Answer(view=message_modal("Not saved", why or "That is not a phone system phonebot knows."))
    stored = (await store.load(workspace)).vendors.get(vendor)
    form = read_vendor_form(vendor, state, stored)
    scope = workspace.scope
    if form.config is None:
        shown = vendor_modal(
            scope, vendor, stored=stored, typed=typed_values(form.section, vendor), problem=_first(form.errors)
        )
        return Answer(view=shown, errors=form.errors)
    outcome = await probe_vendor(vendor, form.config)
    if not outcome.ok:
        block = f"vendor_field:{outcome.field or 'base_url'}"
        again = vendor_modal(
            scope, vendor, stored=stored, typed=typed_values(form.section, vendor), problem=escape(outcome.message)
        )
        return Answer(view=again, errors={block: outcome.message})
    problem = await _save(store, workspace, put_vendor(vendor, form.section), user_id=user_id)
    if problem is not None:
        return Answer(
            view=vendor_modal(scope, vendor, stored=stored, typed=typed_values(form.section, vendor), problem=problem)
        )
    SECRETS.add_from(form.config)  # typed in Slack: kept out of every log line from now on
    log.info("%s: %s set up %s from Slack", workspace.describe(), user_id, vendor)
    note = None if outcome.message.endswith("every check.") else escape(outcome.message)
    return Answer(view=saved_modal(vendor, note), saved=True)


async def route_submission(
    store: WorkspaceSettingsStore,
    workspace: WorkspaceKey,
    meta: SetupMeta,
    state: dict[str, Any],
    *,
    user_id: str,
    vendors: list[str],
) -> Answer:
    """Validate the route form and add (or replace) the route."""
    form = read_route_form(state, vendors)
    if form.entry is None:
        return Answer(view=message_modal("Not saved", _first(form.errors)), errors=form.errors)
    change = put_entry("routes", form.entry, at=meta.index, was=meta.digest)
    problem = await _save(store, workspace, change, user_id=user_id)
    if problem is not None:
        again = route_modal(
            workspace.scope, vendors, current=form.entry, index=meta.index, was=meta.digest, problem=problem
        )
        return Answer(view=again, errors={"route:channel": problem})
    log.info("%s: %s saved an alert route from Slack", workspace.describe(), user_id)
    return Answer(view=message_modal("Alert route saved", ":white_check_mark: The alert route is saved."), saved=True)


async def threshold_submission(
    store: WorkspaceSettingsStore,
    workspace: WorkspaceKey,
    state: dict[str, Any],
    *,
    user_id: str,
    vendors: list[str],
) -> Answer:
    """Validate the threshold form and add the threshold."""
    form = read_threshold_form(state, vendors)
    if form.entry is None:
        return Answer(view=message_modal("Not saved", _first(form.errors)), errors=form.errors)
    problem = await _save(store, workspace, put_entry("queue_thresholds", form.entry), user_id=user_id)
    if problem is not None:
        return Answer(view=message_modal("Not saved", problem), errors={"threshold:group": problem})
    log.info("%s: %s saved a queue threshold from Slack", workspace.describe(), user_id)
    text = ":white_check_mark: The queue threshold is saved."
    return Answer(view=message_modal("Threshold saved", text), saved=True)


async def status_submission(
    store: WorkspaceSettingsStore, workspace: WorkspaceKey, state: dict[str, Any], *, user_id: str
) -> Answer:
    """Validate the Slack status form and keep it as the workspace's mapping and defaults."""
    form = read_status_form(workspace.scope, state)
    status = form.status
    if status is None:
        return Answer(view=message_modal("Not saved", _first(form.errors)), errors=form.errors)

    def change(current: WorkspaceSettings) -> WorkspaceSettings:
        current.status = status
        return current

    problem = await _save(store, workspace, change, user_id=user_id)
    if problem is not None:
        return Answer(view=message_modal("Not saved", problem), errors={"status:activities": problem})
    log.info("%s: %s saved the Slack status mapping from Slack", workspace.describe(), user_id)
    text = ":white_check_mark: Saved. Presence set from now on shows these statuses."
    return Answer(view=message_modal("Slack status saved", text), saved=True)


async def _save(store: WorkspaceSettingsStore, workspace: WorkspaceKey, change: Change, *, user_id: str) -> str | None:
    """Apply ``change``; the problem to show when it was not saved."""
    try:
        await store.update(workspace, change, by=user_id)
    except SettingsBusy:
        return BUSY
    except Stale:
        return STALE
    except (Full, ValidationError):  # a list at its bound, or a record past one
        return FULL
    return None


def _first(errors: dict[str, str]) -> str:
    return escape(next(iter(errors.values()), "Something in the form needs a look."))
