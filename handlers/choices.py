"""Choices offered as buttons, kept server-side: a button carries only a token phonebot issued.

A button's value is the clicker's to edit, so "several contacts match — pick one" and "which
queue?" buttons never carry the number or queue itself: the choices live in the store under a
random token for :data:`CHOICE_TTL_SECONDS`, and a click acts only on what was offered. A
token phonebot never issued, or one that expired, gets a kind "run the command again".
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from bot.store import Store

CHOICE_TTL_SECONDS = 15 * 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")


class Choices:
    """Offers and takes back button choices of one ``kind`` (``call_pick``, ``queue_login_pick``)."""

    def __init__(self, store: Store, kind: str) -> None:
        self.store = store
        self.kind = kind

    async def offer(self, choice: dict[str, Any]) -> str:
        """Keep ``choice``; the token to put in the button's value."""
        token = secrets.token_urlsafe(12)
        await self.store.set(self._key(token), json.dumps(choice), ttl=CHOICE_TTL_SECONDS)
        return token

    async def taken(self, token: str) -> dict[str, Any] | None:
        """The choice behind ``token``, or ``None`` when phonebot did not issue it (or it expired)."""
        if not _TOKEN.fullmatch(token):
            return None
        raw = await self.store.get(self._key(token))
        if raw is None:
            return None
        choice = json.loads(raw)
        return choice if isinstance(choice, dict) else None

    def _key(self, token: str) -> str:
        return f"choice:{self.kind}:{token}"
