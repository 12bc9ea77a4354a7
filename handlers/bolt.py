"""Wire the handlers into a Bolt ``AsyncApp``.

Every listener acknowledges first (inside Slack's 3-second window, whatever a vendor
does) and finishes through ``response_url``. Input errors that need no lookup are
answered in the ack itself. If the work takes longer than ``slow_notice_seconds`` the
user gets a short "still working" note, then the real answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import ACK_SECONDS, COMMANDS, HANDLER_SECONDS
from handlers.alert_actions import ALERT_ACTIONS, AlertActions, Click
from handlers.call import PICK_ACTION, call_command, call_pick_action
from handlers.context import Services
from handlers.errors import explain
from handlers.home import home_view
from handlers.limits import WorkBusy, WorkLimiter
from handlers.parsing import Help, UsageError, help_text, parse_call, parse_phonebot, parse_queue
from handlers.phonebot import phonebot_command
from handlers.presence import presence_command
from handlers.queue import LOGIN_PICK_ACTION, queue_command, queue_login_pick_action
from handlers.reply import Reply, usage

log = logging.getLogger(__name__)

CommandHandler = Callable[..., Awaitable[Reply]]
Precheck = Callable[[str, Services], Reply | None]


SLOW_NOTICE = ":hourglass_flowing_sand: Working on it; the phone system is slow to answer\u2026"
QUEUED_NOTICE = ":hourglass_flowing_sand: phonebot is busy right now; your request is queued and will run shortly\u2026"
BUSY_REPLY = ":hourglass: phonebot was too busy to get to this in time. Nothing was changed; try again in a minute."


async def run_work(
    work: Callable[[], Awaitable[Reply]],
    *,
    notify_slow: Callable[[], Awaitable[None]],
    notice_after: float,
    limiter: WorkLimiter | None = None,
    notify_queued: Callable[[], Awaitable[None]] | None = None,
) -> Reply:
    """Run a handler, nudging the user once if it is slow; any error becomes a kind reply.

    With a ``limiter`` the work first waits for a free slot; if it is still waiting after
    ``notice_after``, the one nudge is ``notify_queued`` (when given) instead of ``notify_slow``.
    """
    started = asyncio.Event()

    async def bounded() -> Reply:
        if limiter is None:
            started.set()
            return await work()
        async with limiter.slot():
            started.set()
            return await work()

    task = asyncio.ensure_future(bounded())
    done, _ = await asyncio.wait({task}, timeout=notice_after)
    if not done:
        nudge = notify_queued if notify_queued is not None and not started.is_set() else notify_slow
        try:
            await nudge()
        except Exception:  # the nudge is a courtesy; never let it sink the real answer
            log.warning("could not send the slow-vendor notice", exc_info=True)
    try:
        return await task
    except WorkBusy:
        return Reply(text=BUSY_REPLY)
    except Exception as exc:
        return explain(exc)


def _ack_kwargs(reply: Reply) -> dict[str, Any]:
    payload = reply.to_slack()
    payload.pop("replace_original", None)
    return payload


def _precheck_call(text: str, services: Services) -> Reply | None:
    parsed = parse_call(text, default_country=services.config.default_country)
    return usage(parsed.message, parsed.example) if isinstance(parsed, UsageError) else None


def _precheck_queue(text: str, services: Services) -> Reply | None:
    parsed = parse_queue(text)
    return usage(parsed.message, parsed.example) if isinstance(parsed, UsageError) else None


def _precheck_phonebot(text: str, services: Services) -> Reply | None:
    parsed = parse_phonebot(text)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, Help):
        return Reply(text=help_text(parsed.topic))
    return None


SLASH_COMMANDS: dict[str, tuple[CommandHandler, Precheck | None]] = {
    "/presence": (presence_command, None),  # needs the user's time zone first, so no precheck
    "/call": (call_command, _precheck_call),
    "/queue": (queue_command, _precheck_queue),
    "/phonebot": (phonebot_command, _precheck_phonebot),
}


def register(app: AsyncApp, services: Services) -> None:
    """Attach every command, action and event listener to ``app``."""
    app.middleware(_dedupe_slack_retries(services))
    for command, (handler, precheck) in SLASH_COMMANDS.items():
        app.command(command)(_slash_listener(services, command, handler, precheck))
    app.action(re.compile(rf"^{PICK_ACTION}(:.*)?$"))(_call_pick_listener(services))
    app.action(re.compile(rf"^{LOGIN_PICK_ACTION}(:.*)?$"))(_login_pick_listener(services))
    app.event("app_home_opened")(_home_listener(services))


def register_alert_actions(app: AsyncApp, services: Services, actions: AlertActions) -> None:
    """Attach the alert message buttons."""

    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        started = time.perf_counter()
        await ack()
        ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
        click = Click(
            action_id=str(action.get("action_id")),
            user_id=str((body.get("user") or {}).get("id")),
            value=str(action.get("value") or ""),
            channel=(body.get("channel") or {}).get("id"),
        )
        send = _responder(respond, client)
        reply = await run_work(
            lambda: actions.handle(click),
            notify_slow=lambda: send(Reply(text=":hourglass_flowing_sand: Working on it\u2026")),
            notice_after=services.config.slow_notice_seconds,
            limiter=services.work,
            notify_queued=lambda: send(Reply(text=QUEUED_NOTICE)),
        )
        COMMANDS.labels(click.action_id, "ok").inc()
        await send(reply)

    app.action(re.compile(rf"^({'|'.join(ALERT_ACTIONS)})$"))(listener)


def _responder(respond: AsyncRespond, client: AsyncWebClient) -> Callable[[Reply], Awaitable[None]]:
    """Post replies to the request's ``response_url`` through the bot client's HTTP session.

    Bolt's own ``respond()`` opens a new session (a new connection) per post; the bot client's
    session is the one phonebot shares per process, so replies reuse its connections.
    """

    async def send(reply: Reply) -> None:
        if respond.response_url is None:
            raise ValueError("this request has no response_url")
        webhook = AsyncWebhookClient(
            url=respond.response_url, session=client.session, proxy=client.proxy, ssl=client.ssl
        )
        await webhook.send_dict(reply.to_slack())

    return send


def _slash_listener(
    services: Services, command: str, handler: CommandHandler, precheck: Precheck | None
) -> Callable[..., Awaitable[None]]:
    async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        started = time.perf_counter()
        text = str(body.get("text") or "").strip()
        user_id = str(body.get("user_id"))
        early = precheck(text, services) if precheck else None
        if early is not None:
            await ack(**_ack_kwargs(early))
            ACK_SECONDS.labels("command").observe(time.perf_counter() - started)
            COMMANDS.labels(command, "usage").inc()
            return
        await ack()
        ACK_SECONDS.labels("command").observe(time.perf_counter() - started)
        send = _responder(respond, client)
        reply = await run_work(
            lambda: handler(services, user_id=user_id, text=text),
            notify_slow=lambda: send(Reply(text=SLOW_NOTICE)),
            notice_after=services.config.slow_notice_seconds,
            limiter=services.work,
            notify_queued=lambda: send(Reply(text=QUEUED_NOTICE)),
        )
        HANDLER_SECONDS.labels(command).observe(time.perf_counter() - started)
        COMMANDS.labels(command, "ok").inc()
        await send(reply)

    listener.__name__ = f"slash_{command.strip('/')}"
    return listener


def _action_listener(
    services: Services, name: str, work: Callable[[str, dict[str, Any]], Awaitable[Reply]]
) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        started = time.perf_counter()
        await ack()
        ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
        user_id = str((body.get("user") or {}).get("id"))
        send = _responder(respond, client)
        reply = await run_work(
            lambda: work(user_id, action),
            notify_slow=lambda: send(Reply(text=":hourglass_flowing_sand: Working on it\u2026")),
            notice_after=services.config.slow_notice_seconds,
            limiter=services.work,
            notify_queued=lambda: send(Reply(text=QUEUED_NOTICE)),
        )
        COMMANDS.labels(name, "ok").inc()
        await send(reply)

    listener.__name__ = f"action_{name}"
    return listener


def _call_pick_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def work(user_id: str, action: dict[str, Any]) -> Reply:
        return await call_pick_action(services, user_id=user_id, value=str(action.get("value")))

    return _action_listener(services, PICK_ACTION, work)


def _login_pick_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def work(user_id: str, action: dict[str, Any]) -> Reply:
        return await queue_login_pick_action(services, user_id=user_id, value=str(action.get("value")))

    return _action_listener(services, LOGIN_PICK_ACTION, work)


def _home_listener(services: Services) -> Callable[..., Awaitable[None]]:
    async def listener(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user_id = str(event.get("user"))
        view = await home_view(services, user_id=user_id)
        await client.views_publish(user_id=user_id, view=view)

    return listener


def _dedupe_slack_retries(services: Services) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Events API retries (``X-Slack-Retry-Num``) of an event already seen are acked and dropped."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if event_id:
            fresh = await services.store.set_if_absent(f"dedupe:slack-event:{event_id}", "1", ttl=3600)
            if not fresh:
                return BoltResponse(status=200, body="")
        return await next()

    return middleware
