"""Bolt listeners of the App Home's Slack status section (Connect is a URL button; Disconnect and the switches
act)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import ACK_SECONDS, COMMANDS
from handlers.context import Services
from handlers.home import home_view, missing_scopes
from handlers.request_services import request_services
from handlers.slack_status import CONNECT_ACTION, DISCONNECT_ACTION, disconnect_action
from handlers.slack_status_prefs import PREFS_ACTION, save_prefs


def register_slack_status(app: AsyncApp, services: Services) -> None:
    """Attach the Connect (ack only: Slack opens the page) and Disconnect buttons."""

    async def connect(ack: AsyncAck) -> None:
        await ack()

    def on_home(
        name: str, work: Callable[[Services, str, dict[str, Any]], Awaitable[bool]]
    ) -> Callable[..., Awaitable[None]]:
        """A Home click: ack, do ``work`` for the clicker, count it, publish their Home again (showing what is kept:
        a refused tick undone)."""

        async def listener(
            ack: AsyncAck,
            body: dict[str, Any],
            action: dict[str, Any],
            client: AsyncWebClient,
            context: AsyncBoltContext,
        ) -> None:
            started = time.perf_counter()
            await ack()
            ACK_SECONDS.labels("action").observe(time.perf_counter() - started)
            here = request_services(context, services)
            user_id = str((body.get("user") or {}).get("id"))
            done = await work(here, user_id, action)
            COMMANDS.labels(name, "ok" if done else "refused").inc()
            view = await home_view(here, user_id=user_id, missing_scopes=lambda: missing_scopes(here, client))
            await client.views_publish(user_id=user_id, view=view)

        listener.__name__ = f"home_{name}"
        return listener

    async def disconnect(here: Services, user_id: str, action: dict[str, Any]) -> bool:
        return await disconnect_action(here, user_id=user_id, value=str(action.get("value") or ""))

    async def switches(here: Services, user_id: str, action: dict[str, Any]) -> bool:
        return await save_prefs(here, user_id=user_id, action=action)

    app.action(CONNECT_ACTION)(connect)
    app.action(DISCONNECT_ACTION)(on_home(DISCONNECT_ACTION, disconnect))
    app.action(PREFS_ACTION)(on_home(PREFS_ACTION, switches))
