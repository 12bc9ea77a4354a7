"""Wire the handlers into a Bolt ``AsyncApp``.

Every listener acknowledges first (inside Slack's 3-second window, whatever a vendor
does) and finishes through ``response_url``. Input errors that need no lookup are
answered in the ack itself. If the work takes longer than ``slow_notice_seconds`` the
user gets a short "still working" note, then the real answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.view import CALLBACK_ACTION, SHOW_ALL_ACTION
from bot.commands.deferred import CommandQueue, DeferredCommand, QueueFull, QueueRefused
from bot.installation import CONTEXT_KEY, InstallationGuard
from bot.installs.scope_drift import ScopeDriftLog, ScopeDriftWatcher
from bot.installs.workspace import WorkspaceKey
from bot.intents import DELIVERY_WINDOW_SECONDS, Intents, delivery_key
from bot.logs import bind_here
from bot.metrics import ACK_SECONDS, COMMANDS
from handlers.alert_actions import ALERT_ACTIONS, AlertActions, Click
from handlers.call import PICK_ACTION, call_pick_action
from handlers.commands import SLASH_COMMANDS, Precheck, answer_command
from handlers.context import Services
from handlers.digest_modal import (
    DIGEST_CALLBACK_ACTION,
    DIGEST_PAGE_ACTION,
    NOT_THIS_LIST,
    DigestBrowser,
    ModalPlace,
    digest_modal,
)
from handlers.errors import LINK_ACTION
from handlers.home import home_view, missing_scopes
from handlers.home_listeners import register_home
from handlers.home_publish import home_published
from handlers.linking.listeners import register_linking
from handlers.phonebot import UNLINK_ACTION, unlink_action
from handlers.queue import LOGIN_PICK_ACTION, queue_login_pick_action
from handlers.reply import Reply
from handlers.request_services import SERVICES_KEY, request_services, request_workspace
from handlers.setup.listeners import register_setup
from handlers.slack_status_listeners import register_slack_status
from handlers.slack_to_phone_listeners import register_slack_to_phone
from handlers.work import QUEUED_NOTICE, Send, response_url_sender, run_work

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    """Attach every command, action and event listener to ``app``.

    The app must have been built with :func:`installation_middleware` as its ``before_authorize``.
    """
    app.middleware(_workspace_services(services))
    app.middleware(_drop_repeated_deliveries(services))
    for command, (_, precheck) in SLASH_COMMANDS.items():
        app.command(command)(_slash_listener(services, command, precheck))
    app.action(re.compile(rf"^{PICK_ACTION}(:.*)?$"))(_call_pick_listener(services))
    app.action(re.compile(rf"^{LOGIN_PICK_ACTION}(:.*)?$"))(_login_pick_listener(services))
    app.event("app_home_opened")(_home_listener(services))
    app.action(LINK_ACTION)(_ack_only)
    app.action(UNLINK_ACTION)(_unlink_listener(services))
    register_setup(app, services)
    register_linking(app, services)
    register_slack_status(app, services)
    register_slack_to_phone(app, services)
    register_home(app, services)


async def _ack_only(ack: AsyncAck) -> None:
    """A URL button (Link your account): Slack opens the page; the click only needs its ack."""
    await ack()


def register_alert_actions(app: AsyncApp, services: Services, actions: AlertActions) -> None:
    """Attach the alert message buttons."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        started = time.perf_counter()
        await ack()
        ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
        scoped = request_services(context, services)
        here = actions.with_services(scoped)
        click = Click(
            action_id=str(action.get("action_id")),
            user_id=str((body.get("user") or {}).get("id")),
            value=str(action.get("value") or ""),
            channel=(body.get("channel") or {}).get("id"),
            container=click_container(body),
            message_ts=(body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts"),
        )
        send = _responder(respond, client)
        reply = await run_work(
            lambda: here.handle(click),
            notify_slow=lambda: send(Reply(text=":hourglass_flowing_sand: Working on it\u2026")),
            notice_after=scoped.config.slow_notice_seconds,
            limiter=services.work,
            notify_queued=lambda: send(Reply(text=QUEUED_NOTICE)),
        )
        COMMANDS.labels(click.action_id, "ok").inc()
        await send(reply)

    app.action(re.compile(rf"^({'|'.join(ALERT_ACTIONS)})$"))(listener)


def _ack_kwargs(reply: Reply) -> dict[str, Any]:
    payload = reply.to_slack()
    payload.pop("replace_original", None)
    return payload


def _responder(respond: AsyncRespond, client: AsyncWebClient) -> Send:
    """Post replies to the request's ``response_url`` through the bot client's (shared) HTTP session."""
    return response_url_sender(respond.response_url, client.session, proxy=client.proxy, ssl=client.ssl)


def _slash_listener(services: Services, command: str, precheck: Precheck | None) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        started = time.perf_counter()
        text = str(body.get("text") or "").strip()
        early = precheck(text, request_services(context, services)) if precheck else None
        if early is not None:
            await ack(**_ack_kwargs(early))
            ACK_SECONDS.labels("command").observe(time.perf_counter() - started)
            COMMANDS.labels(command, "usage").inc()
            return
        job = DeferredCommand(
            command=command,
            text=text,
            user_id=str(body.get("user_id")),
            response_url=str(respond.response_url or ""),
            enterprise_id=context.enterprise_id,
            team_id=context.team_id,
            is_enterprise_install=bool(context.is_enterprise_install),
            acked_at=time.time(),
        )
        if services.commands is not None and job.response_url:
            handled, answer = await _queue(services.commands, job)
            if handled:  # queued (the ack says nothing more), or not, and the ack says why
                await (ack(**_ack_kwargs(answer)) if answer is not None else ack())
                ACK_SECONDS.labels("command").observe(time.perf_counter() - started)
                return
        await ack()  # no queue (the embedded store), or it refused at the door: the work is done here
        ACK_SECONDS.labels("command").observe(time.perf_counter() - started)
        await answer_command(request_services(context, services), job, _responder(respond, client))

    listener.__name__ = f"slash_{command.strip('/')}"
    return listener


QUEUE_UNSURE = (
    ":hourglass: phonebot is slow to take commands right now and can't tell whether it took yours. "
    "If no answer comes within a minute, try again."
)
QUEUE_FULL = ":hourglass: phonebot is too busy to take this right now. Nothing changed; try again in a minute."
#: How long the ack waits for the command queue (well inside Slack's 3 seconds).
QUEUE_TIMEOUT_SECONDS = 1.0


async def _queue(queue: CommandQueue, job: DeferredCommand) -> tuple[bool, Reply | None]:
    """Queue ``job`` for a command worker. ``(True, None)``: queued; ``(True, reply)``: not (or not
    surely) queued, and the ack answers ``reply``; ``(False, None)``: certainly not queued (the store
    refused the connection), so the acking process does the work itself."""
    try:
        async with asyncio.timeout(QUEUE_TIMEOUT_SECONDS):
            await queue.put(job)
    except QueueFull:
        COMMANDS.labels(job.command, "busy").inc()
        return True, Reply(text=QUEUE_FULL)
    except QueueRefused:
        log.warning("the command queue refused the connection; working on the command here")
        return False, None
    except Exception as exc:  # a timeout or a lost connection: the command may be queued all the same
        log.warning("could not tell whether a command was queued (%s)", type(exc).__name__)
        return True, Reply(text=QUEUE_UNSURE)
    return True, None


ActionWork = Callable[[Services, str, dict[str, Any], dict[str, Any]], Awaitable[Reply]]


def _action_listener(services: Services, name: str, work: ActionWork) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        started = time.perf_counter()
        await ack()
        ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
        user_id = str((body.get("user") or {}).get("id"))
        send = _responder(respond, client)
        here = request_services(context, services)
        reply = await run_work(
            lambda: work(here, user_id, action, body),
            notify_slow=lambda: send(Reply(text=":hourglass_flowing_sand: Working on it\u2026")),
            notice_after=here.config.slow_notice_seconds,
            limiter=services.work,
            notify_queued=lambda: send(Reply(text=QUEUED_NOTICE)),
        )
        COMMANDS.labels(name, "ok").inc()
        await send(reply)

    listener.__name__ = f"action_{name}"
    return listener


def _call_pick_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def work(services: Services, user_id: str, action: dict[str, Any], body: dict[str, Any]) -> Reply:
        return await call_pick_action(
            services, user_id=user_id, value=str(action.get("value")), container=click_container(body)
        )

    return _action_listener(services, PICK_ACTION, work)


def _login_pick_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def work(services: Services, user_id: str, action: dict[str, Any], body: dict[str, Any]) -> Reply:
        return await queue_login_pick_action(services, user_id=user_id, value=str(action.get("value")))

    return _action_listener(services, LOGIN_PICK_ACTION, work)


def _unlink_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def work(services: Services, user_id: str, action: dict[str, Any], body: dict[str, Any]) -> Reply:
        return await unlink_action(services, user_id=user_id)

    return _action_listener(services, UNLINK_ACTION, work)


def _home_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def listener(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user_id = str(event.get("user"))
        here = request_services(context, services)
        view = await home_view(here, user_id=user_id, missing_scopes=lambda: missing_scopes(here, client))
        await client.views_publish(user_id=user_id, view=view)
        home_published(here, user_id)

    return listener


def click_container(body: dict[str, Any]) -> str:
    """Which message (channel and ts) or view a clicked button is on, as one string."""
    container = body.get("container") or {}
    if container.get("view_id"):
        return f"view:{container['view_id']}"
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts") or ""
    return f"message:{channel}:{ts}"


def installation_middleware(
    guard: InstallationGuard, drift: ScopeDriftLog | None = None
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Bolt's ``before_authorize``: a signed request for a workspace or app phonebot does not serve is refused
    (403) and logged before it gets a token; an admitted one carries its installation in the context, and its
    Slack client records any ``missing_scope`` answer for that installation."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        context = req.context
        bind_here(team=context.enterprise_id if context.is_enterprise_install else context.team_id)
        admission = await guard.admit(
            body,
            enterprise_id=context.enterprise_id,
            team_id=context.team_id,
            is_enterprise_install=bool(context.is_enterprise_install),
        )
        if admission.refusal is not None:
            log.warning("refused a Slack request: %s", admission.refusal)
            return BoltResponse(status=403, body="")
        if admission.installation is not None:
            context[CONTEXT_KEY] = admission.installation
            key = admission.installation.key
            if drift is not None and key is not None and context.client.retry_handlers is not None:

                async def this_installation() -> WorkspaceKey:
                    return key

                context.client.retry_handlers.append(ScopeDriftWatcher(drift, this_installation))
        return await next()

    return middleware


def _workspace_services(services: Services) -> Callable[..., Awaitable[BoltResponse | None]]:
    """The one place a request's workspace context is resolved: its config, adapters and store scope, bound to
    the request's Slack client, left in the context for every listener (:func:`request_services`)."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        context = req.context
        context[SERVICES_KEY] = await services.for_workspace(
            context.client, request_workspace(context), user_id=context.user_id
        )
        return await next()

    return middleware


def _drop_repeated_deliveries(services: Services) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Slack request phonebot has already taken is acked and dropped, whatever its type.

    Slack's retries (``X-Slack-Retry-Num``) and any re-sent copy of a signed request (Bolt
    accepts one for 5 minutes) would otherwise repeat their side effect: ring a phone
    twice, log in twice. An Events API delivery is known by its ``event_id``; every other
    request by its body, which carries Slack's unique ``trigger_id``. Runs after Bolt has
    verified the signature, so a forged request can't block a real one.
    """

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        intents = Intents(request_services(req.context, services).store)  # this workspace's scope
        claim = _delivery_claim(req)
        if claim is not None:
            key, ttl = claim
            try:
                fresh = await intents.claim(key, ttl=ttl)
            except Exception:  # the store is down: better to serve the request than to refuse it
                log.warning("could not check whether a Slack request is a repeat", exc_info=True)
                fresh = True
            if not fresh:
                retry = req.headers.get("x-slack-retry-num") or []
                log.info("dropped a repeated Slack request", extra={"retry_num": retry[0] if retry else None})
                return BoltResponse(status=200, body="")
        return await next()

    return middleware


def _delivery_claim(req: AsyncBoltRequest) -> tuple[str, float] | None:
    """The intent key and TTL identifying one Slack delivery, or ``None`` for nothing to claim."""
    if req.lazy_only:  # Bolt re-dispatching its own lazy listener, not a new delivery
        return None
    body = req.body if isinstance(req.body, dict) else {}
    event_id = body.get("event_id")
    if event_id:
        return f"dedupe:slack-event:{event_id}", 3600
    raw = req.raw_body or (json.dumps(body, sort_keys=True) if body else "")
    return (delivery_key(raw), DELIVERY_WINDOW_SECONDS) if raw else None


def register_digest_actions(app: AsyncApp, services: Services, browser: DigestBrowser, actions: AlertActions) -> None:
    """Attach the digest's **Show all** button and the buttons of the modal it opens (``handlers.digest_modal``)."""

    async def show_all(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        started = time.perf_counter()
        await ack()
        tz = request_services(context, services).config.tz
        ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
        container = body.get("container") or {}
        opened = await browser.within(request_workspace(context)).opened(
            str(action.get("value") or ""),
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        )
        view = digest_modal(None, tz=tz, status=opened) if isinstance(opened, str) else digest_modal(opened, tz=tz)
        await client.views_open(trigger_id=str(body.get("trigger_id")), view=view)
        COMMANDS.labels(SHOW_ALL_ACTION, "ok").inc()

    async def turn_page(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        tz = request_services(context, services).config.tz
        browsing = browser.within(request_workspace(context))
        view = body.get("view") or {}
        here = ModalPlace.load(str(view.get("private_metadata") or ""))
        there = here.turned_to(str(action.get("value") or "")) if here else None
        status = None if there is not None else NOT_THIS_LIST
        place = there or here
        page = await browsing.page(place.digest_id, place.page) if place else None
        await client.views_update(view_id=str(view.get("id")), view=digest_modal(page, tz=tz, status=status))
        COMMANDS.labels(DIGEST_PAGE_ACTION, "ok").inc()

    async def call_back(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        started = time.perf_counter()
        await ack()
        ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
        scoped = request_services(context, services)
        tz = scoped.config.tz
        browsing = browser.within(request_workspace(context))
        view = body.get("view") or {}
        view_id = str(view.get("id"))
        place = ModalPlace.load(str(view.get("private_metadata") or ""))
        page = await browsing.page(place.digest_id, place.page) if place else None

        async def show(status: str) -> None:
            await client.views_update(view_id=view_id, view=digest_modal(page, tz=tz, status=status))

        async def work() -> Reply:
            if place is None:
                return Reply(text=NOT_THIS_LIST)
            value = await browsing.alert_button_value(place.digest_id, str(action.get("value") or ""))
            if value is None:
                return Reply(text="That alert isn't in this list any more (or I no longer have it); it is unchanged.")
            user_id = str((body.get("user") or {}).get("id"))
            channel = page.channel if page else None
            click = Click(
                action_id=CALLBACK_ACTION,
                user_id=user_id,
                value=value,
                channel=channel,
                container=f"view:{view_id}",
                digest_id=place.digest_id if place else None,
            )
            return await actions.with_services(scoped).handle(click)

        reply = await run_work(
            work,
            notify_slow=lambda: show(":hourglass_flowing_sand: Working on it\u2026"),
            notice_after=scoped.config.slow_notice_seconds,
        )
        page = await browsing.page(place.digest_id, place.page) if place else None  # shows who is on it now
        await show(reply.text)
        COMMANDS.labels(DIGEST_CALLBACK_ACTION, "ok").inc()

    app.action(SHOW_ALL_ACTION)(show_all)
    app.action(DIGEST_PAGE_ACTION)(turn_page)
    app.action(DIGEST_CALLBACK_ACTION)(call_back)
