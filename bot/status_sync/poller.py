"""Presence changed in the phone system itself (the Dstny or Relatel app) shows in Slack (issue 12 point 4).

A supervised task looks at the phone presence of everyone connected for status sync every ``interval``
seconds and, on a change since the last look (:class:`~bot.status_sync.seen.PresenceSeen`), takes the same
path ``/presence`` does: the mapped Slack status with the presence's end as ``status_expiration``, and the
person's own status back when the phone is available again. The first look at a person only notes what
the phone shows. No loops: a presence phonebot wrote itself was noted as seen when it wrote it
(``/presence``, a huddle's end), and one it set from Slack (:meth:`PhoneFromSlack.is_own`) is never shown.

Bounded: at most :data:`MAX_PEOPLE` people a pass, :data:`CONCURRENCY` looks at once, and per vendor at
most :data:`VENDOR_CONCURRENCY` at once spaced :data:`VENDOR_SPACING` seconds apart. One person's vendor
failure skips that person for this pass; it never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from redis.asyncio import Redis

from adapters.models import Presence
from bot.status_sync.echoes import PhoneFromSlack, PhoneShape
from bot.status_sync.mapping import DEFAULT_STATUSES
from bot.status_sync.prefs import PersonPrefs
from bot.status_sync.seen import PresenceSeen, same_presence
from bot.status_sync.sync import Outcome
from bot.status_sync.workspace_status import StatusSettings
from bot.store import Store
from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

TASK = "slack-status-presence-poll"
MAX_PEOPLE = 5000
CONCURRENCY = 8
VENDOR_CONCURRENCY = 2
#: Looks at one vendor are at least this far apart (5 a second): a pass never bursts a phone system's API.
VENDOR_SPACING = 0.2
#: The connected people's token keys: ``ws:<scope>:slack-status:<user>`` (:class:`StatusTokens`).
TOKEN_PATTERN = "ws:*slack-status:*"
TOKEN_MARK = "slack-status:"


@dataclass(frozen=True)
class PhoneLook:
    """How to read one person's phone presence, and their workspace's status settings."""

    vendor: str
    read: Callable[[], Awaitable[Presence]]
    settings: StatusSettings | None


#: ``(prefix, user)`` → their phone (``None``: not linked, no presence reading, workspace gone).
FindPhone = Callable[[str, str], Awaitable[PhoneLook | None]]
#: Told when a person's token was found revoked: ``(prefix, user)``.
Revoked = Callable[[str, str], Awaitable[None]]


class StatusWriter(Protocol):
    """The set/clear path ``/presence`` uses (:class:`StatusSync`, or it paced)."""

    async def presence_set(
        self,
        prefix: str,
        slack_user_id: str,
        *,
        activity: str,
        label: str,
        until: datetime | None,
        now: datetime,
        workspace: StatusSettings | None = None,
    ) -> Outcome: ...

    async def presence_cleared(self, prefix: str, slack_user_id: str, *, now: datetime) -> Outcome: ...


def activity_of(presence: Presence, known: Iterable[str]) -> tuple[str, str]:
    """The activity (a mapped name where one fits) and label a phone presence shows in Slack."""
    names = set(known)
    if presence.activity is not None:
        for candidate in (presence.activity.id, presence.activity.name):
            if candidate and candidate.lower() in names:
                return candidate.lower(), presence.activity.name or candidate
    if presence.dnd or presence.activity is None:
        return ("dnd", "Do not disturb") if presence.dnd else ("busy", "Busy")
    label = (presence.activity.name or presence.activity.id or "busy")[:100]
    return (presence.activity.id or "busy").lower()[:100], label


class _VendorGate:
    """At most ``VENDOR_CONCURRENCY`` looks at one vendor at once, ``VENDOR_SPACING`` apart."""

    def __init__(self, spacing: float) -> None:
        self.slots = asyncio.Semaphore(VENDOR_CONCURRENCY)
        self.spacing = spacing
        self._next = 0.0
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self.slots:
            async with self._lock:
                wait = self._next - time.monotonic()
                self._next = max(self._next, time.monotonic()) + self.spacing
            if wait > 0:
                await asyncio.sleep(wait)
            yield


class PresencePoller:
    """The supervised task showing phone-side presence changes in Slack (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        store: Store,
        writer: StatusWriter,
        find_phone: FindPhone,
        *,
        interval: float,
        revoked: Revoked | None = None,
        vendor_spacing: float = VENDOR_SPACING,
    ) -> None:
        self.redis = redis
        self.writer = writer
        self.find_phone = find_phone
        self.revoked = revoked
        self.interval = interval
        self.seen = PresenceSeen(store)
        self.from_slack = PhoneFromSlack(store)
        self.prefs = PersonPrefs(store)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.vendor_spacing = vendor_spacing
        self._gates: dict[str, _VendorGate] = {}
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)

    async def start(self) -> None:
        self._stop.clear()
        self.supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        await self.supervisor.stop(cancel=[TASK])

    async def problem(self) -> str | None:
        """For ``/readyz``: ``None`` while the task runs."""
        return None if self.supervisor.running(TASK) else "the presence poller is not running"

    async def people(self) -> list[tuple[str, str]]:
        """Up to :data:`MAX_PEOPLE` connected people as ``(prefix, user)``."""
        found: list[tuple[str, str]] = []
        async for key in self.redis.scan_iter(match=TOKEN_PATTERN, count=500):
            prefix, mark, user = str(key).rpartition(TOKEN_MARK)
            if mark and prefix.endswith(":") and user and ":" not in user:
                found.append((prefix, user))
                if len(found) >= MAX_PEOPLE:
                    log.warning("more than %d people connected for status sync; the rest wait a pass", MAX_PEOPLE)
                    break
        return found

    async def pass_once(self) -> dict[str, int]:
        """Look at everyone once; how many looks ended how (for logs and tests)."""
        counts: dict[str, int] = {}
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(prefix: str, user: str) -> None:
            async with slots:
                try:
                    done = await self.look(prefix, user)
                except Exception as exc:  # one person's phone system failing never stops the others'
                    log.warning("reading a phone presence for status sync failed (%s)", type(exc).__name__)
                    done = "failed"
            counts[done] = counts.get(done, 0) + 1

        async with asyncio.TaskGroup() as group:
            for prefix, user in await self.people():
                group.create_task(one(prefix, user))
        return counts

    async def look(self, prefix: str, user: str) -> str:
        """Look at one person's phone; what came of it."""
        phone = await self.find_phone(prefix, user)
        if phone is None:
            return "no_phone"
        defaults = phone.settings.defaults if phone.settings is not None else None
        if not (await self.prefs.get(prefix, user, default=defaults)).phone_to_slack:
            return "off"
        gate = self._gates.setdefault(phone.vendor, _VendorGate(self.vendor_spacing))
        async with gate.turn():
            presence = await phone.read()
        now = self.clock()
        shape = PhoneShape.of(presence)
        last = await self.seen.get(prefix, user)
        await self.seen.note(prefix, user, shape)
        if last is None:
            return "first"
        if same_presence(last, shape):
            return "same"
        if await self.from_slack.is_own(prefix, user, presence):
            return "own"  # phonebot set it from Slack (a huddle, a status): never echoed back to Slack
        if presence.available:
            outcome = await self.writer.presence_cleared(prefix, user, now=now)
        else:
            known = [*DEFAULT_STATUSES, *(phone.settings.activities if phone.settings is not None else {})]
            activity, label = activity_of(presence, known)
            until = presence.until if presence.until is not None and presence.until > now else None
            outcome = await self.writer.presence_set(
                prefix, user, activity=activity, label=label, until=until, now=now, workspace=phone.settings
            )
        if outcome is Outcome.REVOKED and self.revoked is not None:
            await self.revoked(prefix, user)
        return outcome.value

    async def _run(self) -> None:
        while not self._stop.is_set():
            counts = await self.pass_once()
            if counts.get("failed"):
                log.info("presence poll: %d look(s) failed this pass; tried again next pass", counts["failed"])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
