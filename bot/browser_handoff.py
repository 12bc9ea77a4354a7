"""The browser's trip through an OAuth consent page, as phonebot's linking and connecting flows make it.

A button in Slack carries a single-use **ticket** (bound to the workspace and person, ``seconds`` long);
the start page takes it once and hands the browser on to the consent page with a fresh **state**, which
it also sets in an HttpOnly, SameSite=Lax cookie scoped to the callback path, so the callback can tell the
answer belongs to this browser's attempt. Each flow checks the state at its callback as its provider needs.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.responses import RedirectResponse, Response

from bot.store import Store


class BrowserHandoff:
    """Tickets and states of one flow, kept in ``store`` under ``key`` (``<key>ticket:…``, ``<key>state:…``)."""

    def __init__(self, store: Store, *, key: str, cookie: str, cookie_path: str, seconds: int, secure: bool) -> None:
        self.store = store
        self.ticket_key = f"{key}ticket:"
        self.state_key = f"{key}state:"
        self.cookie = cookie
        self.cookie_path = cookie_path
        self.seconds = seconds
        self.secure = secure

    async def issue(self, binding: dict[str, Any]) -> str:
        """A single-use ticket for ``binding`` (who, in which workspace)."""
        ticket = secrets.token_urlsafe(24)
        await self.store.set(self.ticket_key + ticket, json.dumps(binding), ttl=self.seconds)
        return ticket

    async def take_ticket(self, ticket: str) -> str | None:
        """The binding behind ``ticket`` (raw JSON), once; ``None`` when unknown, used or expired."""
        return await self.store.take(self.ticket_key + ticket) if ticket else None

    async def to_consent(self, binding: str, consent_url: str, state: str) -> Response:
        """Send the browser to ``consent_url`` (which carries ``state``), keeping ``binding`` under that state."""
        await self.store.set(self.state_key + state, binding, ttl=self.seconds)
        answer = RedirectResponse(consent_url, status_code=302)
        answer.set_cookie(
            self.cookie,
            state,
            max_age=self.seconds,
            path=self.cookie_path,
            httponly=True,
            secure=self.secure,
            samesite="lax",
        )
        return answer

    @staticmethod
    def new_state() -> str:
        return secrets.token_urlsafe(24)

    async def take_state(self, state: str) -> str | None:
        """The binding kept under ``state`` (raw JSON), once."""
        return await self.store.take(self.state_key + state) if state else None
