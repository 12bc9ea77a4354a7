"""Scope drift: Slack answered ``missing_scope``, so an installation lacks a permission phonebot uses.

That happens when phonebot starts using a scope after a workspace installed it (the manifest gained
one and the workspace was not reinstalled), or when an admin trimmed the app's permissions. Slack
says which scope it wanted and which the token has (``{"ok": false, "error": "missing_scope",
"needed": "users:read", "provided": "commands,chat:write"}``). Instead of a command failing
silently, phonebot:

* records it per installation (``slack:scope-drift:{enterprise or -}:{team or -}``: one small JSON
  value, the needed scopes merged, at most :data:`MAX_SCOPES`), and logs one warning line the first
  time a scope is found missing;
* shows it on every App Home of that workspace (:mod:`handlers.home`) with how to reinstall;
* forgets it once the token has the scopes again: a new installation through "Add to Slack"
  clears it, and the App Home checks the token's granted scopes (``auth.test``'s
  ``X-OAuth-Scopes``) before showing the banner, which covers a reinstall that kept the token.

:class:`ScopeDriftWatcher` is how it is noticed: a slack_sdk retry handler sees every answer of the
client it is given to — the per-request client of each Slack request, the alert pipeline's — and
never asks for a retry.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.installs.workspace import WorkspaceKey
from bot.store import Store

log = logging.getLogger(__name__)

#: At most this many missing scopes are remembered per installation (Slack's scopes are short words).
MAX_SCOPES = 20
_SCOPE_MAX_LENGTH = 64


@dataclass(frozen=True)
class MissingScopes:
    """What Slack refused for one installation: the scopes it needed, and the ones the token has."""

    needed: tuple[str, ...]
    provided: tuple[str, ...]
    method: str
    at: float


def parse_scopes(text: object) -> tuple[str, ...]:
    """``"users:read,chat:write"`` → ``("users:read", "chat:write")``; anything unlike a scope is dropped."""
    if not isinstance(text, str):
        return ()
    scopes = []
    for part in text.split(","):
        scope = part.strip()
        if scope and len(scope) <= _SCOPE_MAX_LENGTH and all(c.isalnum() or c in ":._-" for c in scope):
            scopes.append(scope)
    return tuple(dict.fromkeys(scopes))


class ScopeDriftLog:
    """The ``missing_scope`` answers per installation, in the store."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def record(
        self, workspace: WorkspaceKey, *, method: str, needed: Iterable[str], provided: Iterable[str]
    ) -> bool:
        """Remember that ``method`` needed ``needed``; True when a scope was not already known missing."""
        before = await self.missing(workspace)
        known = before.needed if before else ()
        merged = tuple(dict.fromkeys([*known, *needed]))[:MAX_SCOPES]
        if not merged:
            return False
        entry = {"needed": list(merged), "provided": list(provided)[:100], "method": method[:64], "at": self.clock()}
        await self.store.set(workspace.scope_drift_key, json.dumps(entry))
        return merged != known

    async def missing(self, workspace: WorkspaceKey) -> MissingScopes | None:
        """What is missing for ``workspace``, or ``None``."""
        raw = await self.store.get(workspace.scope_drift_key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return MissingScopes(
                needed=parse_scopes(",".join(data["needed"])),
                provided=parse_scopes(",".join(data["provided"])),
                method=str(data["method"]),
                at=float(data["at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    async def settle(self, workspace: WorkspaceKey, granted: Iterable[str]) -> MissingScopes | None:
        """Forget the drift when ``granted`` has every needed scope; else what is still missing."""
        missing = await self.missing(workspace)
        if missing is None:
            return None
        have = set(granted)
        if all(scope in have for scope in missing.needed):
            await self.clear(workspace)
            log.info("the Slack token of %s has every scope phonebot needs again", workspace.describe())
            return None
        return missing

    async def clear(self, workspace: WorkspaceKey) -> None:
        await self.store.delete(workspace.scope_drift_key)


class ScopeDriftWatcher(AsyncRetryHandler):
    """Records every ``missing_scope`` answer its client gets, for the installation ``await workspace()`` names."""

    def __init__(self, drift: ScopeDriftLog, workspace: Callable[[], Awaitable[WorkspaceKey | None]]) -> None:
        super().__init__(max_retry_count=1)
        self.drift = drift
        self.workspace = workspace

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        body = response.body if response is not None else None
        if not isinstance(body, dict) or body.get("error") != "missing_scope":
            return False
        method = request.url.rstrip("/").rsplit("/", 1)[-1][:64]
        needed, provided = parse_scopes(body.get("needed")), parse_scopes(body.get("provided"))
        workspace: WorkspaceKey | None = None
        try:
            workspace = await self.workspace()
            fresh = workspace is not None and await self.drift.record(
                workspace, method=method, needed=needed, provided=provided
            )
        except Exception as exc:  # an observer: it must never turn Slack's answer into another error
            log.warning("could not record a missing Slack scope (%s)", type(exc).__name__)
            fresh = True
        where = workspace.describe() if workspace is not None else "this workspace"
        line = (
            "Slack refused %s in %s: the app lacks the scope %s (it has: %s). "
            "Reinstall phonebot in that workspace to grant it; its App Home says how"
        )
        args = (method, where, ", ".join(needed) or "(not named)", ", ".join(provided) or "none")
        (log.warning if fresh else log.debug)(line, *args)
        return False


async def still_missing(drift: ScopeDriftLog, workspace: WorkspaceKey, client: AsyncWebClient) -> MissingScopes | None:
    """What ``workspace`` still lacks: the recorded drift, unless the token's granted scopes cover it now.

    Asks ``auth.test`` (its ``X-OAuth-Scopes`` header lists the token's scopes) only when a drift is
    recorded, so a reinstall that kept the token clears the banner at the next look.
    """
    missing = await drift.missing(workspace)
    if missing is None:
        return None
    try:
        answer = await client.auth_test()
    except (SlackApiError, OSError, TimeoutError):
        return missing
    headers = {str(name).lower(): value for name, value in (answer.headers or {}).items()}
    granted = headers.get("x-oauth-scopes")
    if granted is None:
        return missing
    return await drift.settle(workspace, parse_scopes(granted if isinstance(granted, str) else ",".join(granted)))
