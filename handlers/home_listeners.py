"""Bolt listeners of the App Home's phone sections: ack at once, do the work for the clicker, leave its answer on
their Home and publish it again (debounced, :mod:`handlers.home_publish`)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import ACK_SECONDS, COMMANDS
from handlers.context import Services
from handlers.home_actions import (
    MODAL_CALLBACK,
    call_again_action,
    modal_errors,
    modal_text,
    presence_modal,
    queue_toggle_action,
    set_presence_action,
)
from handlers.home_phone import CALL_AGAIN_ACTION, PRESENCE_ACTION, PRESENCE_MODAL_ACTION, QUEUE_TOGGLE_ACTION
from handlers.home_publish import refresh_home
from handlers.home_state import set_notice
from handlers.reply import Reply
from handlers.request_services import request_services
from handlers.work import QUEUED_NOTICE, run_work

#: How long the modal's ack waits for the person's time zone (Slack's profile, usually cached).
TZ_LOOKUP_SECONDS = 1.0

Work = Callable[[Services, str], Awaitable[Reply]]


async def answer_on_home(services: Services, user_id: str, name: str, work: Callable[[], Awaitable[Reply]]) -> None:
    """Run ``work`` (bounded like every acked work), show its answer on the Home, publish the Home again."""

    async def show(text: str) -> None:
        await set_notice(services.store, user_id, text)
        refresh_home(services, user_id)

    reply = await run_work(
        work,
        notify_slow=lambda: show(":hourglass_flowing_sand: Working on it\u2026"),
        notice_after=services.config.slow_notice_seconds,
        limiter=services.work,
        notify_queued=lambda: show(QUEUED_NOTICE),
    )
    COMMANDS.labels(name, "ok").inc()
    await show(reply.text)


def register_home(app: AsyncApp, services: Services) -> None:
    """Attach the presence buttons, the **Set…** modal, the queue toggles and **Call again**."""

    def clicked(name: str, work: Callable[[Services, str, dict[str, Any], dict[str, Any]], Awaitable[Reply]]) -> Any:
        async def listener(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
        ) -> None:
            started = time.perf_counter()
            await ack()
            ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
            here = request_services(context, services)
            user_id = str((body.get("user") or {}).get("id"))
            await answer_on_home(here, user_id, name, lambda: work(here, user_id, action, body))

        listener.__name__ = f"home_{name}"
        return listener

    async def presence(here: Services, user_id: str, action: dict[str, Any], body: dict[str, Any]) -> Reply:
        return await set_presence_action(here, user_id=user_id, text=str(action.get("value") or ""))

    async def toggle(here: Services, user_id: str, action: dict[str, Any], body: dict[str, Any]) -> Reply:
        return await queue_toggle_action(here, user_id=user_id, value=str(action.get("value") or ""))

    async def call_again(here: Services, user_id: str, action: dict[str, Any], body: dict[str, Any]) -> Reply:
        view_id = (body.get("container") or {}).get("view_id") or (body.get("view") or {}).get("id") or ""
        return await call_again_action(
            here, user_id=user_id, call_id=str(action.get("value") or ""), container=f"view:{view_id}"
        )

    async def open_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=str(body.get("trigger_id")), view=presence_modal())

    async def submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext) -> None:
        here = request_services(context, services)
        user_id = str((body.get("user") or {}).get("id"))
        text = modal_text(view)
        errors = modal_errors(text, now=here.clock(), tz=await _tz(here, user_id))
        if errors is not None or text is None:
            await ack(response_action="errors", errors=errors or {})
            return
        await ack()  # the modal closes; the answer shows on the Home
        await answer_on_home(
            here, user_id, MODAL_CALLBACK, lambda: set_presence_action(here, user_id=user_id, text=text)
        )

    app.action(re.compile(rf"^{PRESENCE_ACTION}:\d+$"))(clicked(PRESENCE_ACTION, presence))
    app.action(QUEUE_TOGGLE_ACTION)(clicked(QUEUE_TOGGLE_ACTION, toggle))
    app.action(CALL_AGAIN_ACTION)(clicked(CALL_AGAIN_ACTION, call_again))
    app.action(PRESENCE_MODAL_ACTION)(open_modal)
    app.view(MODAL_CALLBACK)(submit)


async def _tz(services: Services, user_id: str) -> Any:
    """The person's time zone for reading "until 13:00", without holding up the ack."""
    try:
        async with asyncio.timeout(TZ_LOOKUP_SECONDS):
            return services.tz_for(await services.users.get(user_id))
    except Exception:  # Slack slow or refusing: the configured default reads the text just as well
        return services.config.tz
