"""The durable alert queue: a Redis stream with one consumer group shared by every replica.

* ``submit`` deduplicates on the event's idempotency key and appends to the stream in one
  Lua script, so a duplicate is never queued and a queued event is never lost to a crash
  between the two steps.
* Workers read with ``XREADGROUP``; an entry stays in the group's pending list until the
  worker acknowledges it, which it does only after Slack confirmed the post or update.
* Entries a dead worker left pending are taken over with ``XAUTOCLAIM`` once idle long enough.
* An entry that cannot be delivered is parked in the dead-letter hash, visible to
  ``phonebot alerts dead`` and replayable from there. Each dead letter says whether Slack
  refused it for good (or it could not be handled at all) or was only unavailable
  (``transient``); the worker replays transient ones by itself once Slack answers again.
* An entry whose fields cannot even be read (a poison entry) is handed to the worker with its
  ``problem`` set, so it is dead-lettered instead of stopping the read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.exceptions import ResponseError

from adapters.events import AlertEvent, bounded_id
from bot.installs.workspace import WorkspaceKey

log = logging.getLogger(__name__)

GROUP = "phonebot"
DEDUPE_TTL_SECONDS = 8 * 24 * 3600  # longer than any vendor's redelivery window (Relatel: ~3.5 days)

_SUBMIT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', 'sk', ARGV[2], 'event', ARGV[3])
end
return false
"""


def subject_key(vendor: str, subject: str) -> str:
    """The one key a subject's state, lock and messages hang off (bounded, whatever the vendor sent)."""
    return f"{vendor}|{bounded_id(subject)}"


@dataclass(frozen=True)
class QueueEntry:
    """One stream entry: an event to fold in, or (``event is None``) a request to re-sync the subject."""

    id: str
    subject_key: str
    event: AlertEvent | None
    #: Why the entry's fields could not be read (a poison entry, to be dead-lettered); ``None`` when fine.
    problem: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """An entry parked because it could not be delivered."""

    id: str
    subject_key: str
    event: AlertEvent | None
    reason: str
    parked_at: float
    #: Slack was unavailable (not refusing): the worker replays it once Slack answers again.
    transient: bool = False


@dataclass(frozen=True)
class Failures:
    """The failed attempts at one entry so far."""

    attempts: int
    first_at: float  # unix time of the first failure


@dataclass(frozen=True)
class QueueStats:
    """What ``/readyz`` and the queue gauges look at."""

    depth: int  # entries queued or pending
    oldest_age_seconds: float  # age of the oldest of them (0 when none)


#: Where the pipeline's Redis keys live (after a workspace's scope, with "Add to Slack").
ALERTS_PREFIX = "phonebot:alerts"


class AlertKeys:
    """Every Redis key of the pipeline, under one prefix."""

    def __init__(self, prefix: str = ALERTS_PREFIX) -> None:
        self.prefix = prefix
        self.stream = f"{prefix}:stream"
        self.dead = f"{prefix}:dead"
        self.failures = f"{prefix}:failures"
        self.failing_since = f"{prefix}:failing-since"
        self.releases = f"{prefix}:releases"

    @classmethod
    def scoped(cls, scope: str) -> AlertKeys:
        """The keys of one workspace's pipeline: ``scope`` (its data prefix; ``""`` alone) before each."""
        return cls(f"{scope}{ALERTS_PREFIX}")

    def dedupe(self, idempotency_key: str) -> str:
        return f"{self.prefix}:seen:{bounded_id(idempotency_key)}"

    def record(self, subject_key: str) -> str:
        return f"{self.prefix}:subject:{subject_key}"

    def lock(self, name: str) -> str:
        return f"{self.prefix}:lock:{name}"

    def pace(self, channel: str) -> str:
        return f"{self.prefix}:pace:{channel}"

    def rate(self, channel: str, minute: int) -> str:
        return f"{self.prefix}:rate:{channel}:{minute}"

    def digest(self, digest_id: str) -> str:
        return f"{self.prefix}:digest:{digest_id}"

    def open_digest(self, channel: str) -> str:
        return f"{self.prefix}:digest-open:{channel}"

    def snooze(self, channel: str) -> str:
        return f"{self.prefix}:snooze:{channel}"

    def message(self, channel: str, ts: str) -> str:
        return f"{self.prefix}:message:{channel}:{ts}"


#: "Add to Slack": the queue of a workspace's own alert pipeline (showing one vendor, if given), or ``None``
#: for the deployment's. Asked with the workspace of the Slack request, never one a button value names.
WorkspaceQueues = Callable[[WorkspaceKey | None, str | None], "AlertQueue | None"]


class AlertQueue:
    """Submit, read, acknowledge, take over and dead-letter alert entries."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys | None = None) -> None:
        self.redis = redis
        self.keys = keys or AlertKeys()
        self._submit = redis.register_script(_SUBMIT)

    async def ensure_group(self) -> None:
        """Create the stream and consumer group if missing (idempotent; safe on every start)."""
        try:
            await self.redis.xgroup_create(self.keys.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def submit(self, event: AlertEvent) -> bool:
        """Queue ``event`` unless its idempotency key was seen; ``False`` for a duplicate."""
        entry_id = await self._submit(
            keys=[self.keys.dedupe(event.idempotency_key), self.keys.stream],
            args=[DEDUPE_TTL_SECONDS * 1000, subject_key(event.vendor, event.subject), event.model_dump_json()],
        )
        return bool(entry_id)

    async def request_sync(self, subject_key: str) -> str:
        """Queue a re-render of a subject's messages (after a button click or a replay)."""
        return str(await self.redis.xadd(self.keys.stream, {"sk": subject_key, "sync": "1"}))

    async def read_new(self, consumer: str, *, count: int, block_ms: int) -> list[QueueEntry]:
        """Entries no consumer has seen yet (blocks up to ``block_ms``)."""
        reply = await self.redis.xreadgroup(
            GROUP, consumer, {self.keys.stream: ">"}, count=count, block=block_ms or None
        )
        return self._entries(_stream_items(reply))

    async def read_mine(self, consumer: str, *, count: int) -> list[QueueEntry]:
        """Entries this consumer read earlier and has not acknowledged (deferred or failed ones)."""
        reply = await self.redis.xreadgroup(GROUP, consumer, {self.keys.stream: "0"}, count=count)
        return self._entries(_stream_items(reply))

    async def take_over(self, consumer: str, *, min_idle_ms: int, count: int) -> list[QueueEntry]:
        """Claim entries another consumer left pending for ``min_idle_ms`` (it probably died)."""
        reply = await self.redis.xautoclaim(
            self.keys.stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        entries = self._entries(reply[1])
        deleted = reply[2] if len(reply) > 2 else []
        if deleted:  # trimmed away while pending: nothing left to deliver
            await self.redis.xack(self.keys.stream, GROUP, *deleted)
        if entries:
            log.info("took over %d alert entries left pending by another worker", len(entries))
        return entries

    async def ack(self, *entry_ids: str) -> None:
        """Done with these entries: acknowledge and delete them, forget their failure counts."""
        if not entry_ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.keys.stream, GROUP, *entry_ids)
            pipe.xdel(self.keys.stream, *entry_ids)
            pipe.hdel(self.keys.failures, *entry_ids)
            pipe.hdel(self.keys.failing_since, *entry_ids)
            await pipe.execute()

    async def count_failure(self, entry_id: str) -> Failures:
        """One more failed attempt at ``entry_id``; returns the attempts so far and when the first failed."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.keys.failures, entry_id, 1)
            pipe.hsetnx(self.keys.failing_since, entry_id, time.time())
            pipe.hget(self.keys.failing_since, entry_id)
            attempts, _, since = await pipe.execute()
        return Failures(int(attempts), float(since))

    async def dead_letter(self, entry: QueueEntry, reason: str, *, transient: bool = False) -> None:
        """Park ``entry`` where ``phonebot alerts dead`` shows it, then acknowledge it."""
        record = {
            "sk": entry.subject_key,
            "event": entry.event.model_dump(mode="json") if entry.event else None,
            "reason": reason,
            "parked_at": time.time(),
            "transient": transient,
        }
        await self.redis.hset(self.keys.dead, entry.id, json.dumps(record))
        await self.ack(entry.id)
        log.error("alert %s for %s dead-lettered: %s", entry.id, entry.subject_key[:200], reason)

    async def dead_letters(self) -> list[DeadLetter]:
        """Every parked entry, oldest first (an unreadable record is shown with its problem, never skipped)."""
        raw: dict[str, str] = dict(await self.redis.hgetall(self.keys.dead))  # type: ignore[arg-type]
        letters = []
        for entry_id, text in raw.items():
            try:
                data: dict[str, Any] = json.loads(text)
                event = AlertEvent.model_validate(data["event"]) if data.get("event") else None
                letter = DeadLetter(
                    entry_id,
                    str(data["sk"]),
                    event,
                    str(data["reason"]),
                    float(data["parked_at"]),
                    transient=bool(data.get("transient")),
                )
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                letter = DeadLetter(entry_id, "?", None, f"unreadable dead letter ({type(exc).__name__})", 0.0)
            letters.append(letter)
        return sorted(letters, key=lambda letter: letter.parked_at)

    async def replay(self, entry_id: str) -> bool:
        """Queue a parked entry's subject for delivery again; ``False`` when no such entry."""
        text = await self.redis.hget(self.keys.dead, entry_id)
        if text is None:
            return False
        data = json.loads(text)
        if not data.get("sk"):  # a poison entry without a subject: nothing could ever deliver it
            return False
        fields: dict[Any, Any] = {"sk": data["sk"], "sync": "1"}
        if data.get("event"):  # folding is idempotent, so the original event can simply go round again
            fields = {"sk": data["sk"], "event": json.dumps(data["event"])}
        await self.redis.xadd(self.keys.stream, fields)
        await self.redis.hdel(self.keys.dead, entry_id)
        return True

    async def backlog(self) -> int:
        """Entries queued or pending (for metrics and ``/readyz``)."""
        return int(await self.redis.xlen(self.keys.stream))

    async def stats(self) -> QueueStats:
        """How many entries wait and how old the oldest is (acknowledged entries are deleted, so it is the first)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self.keys.stream)
            pipe.xrange(self.keys.stream, "-", "+", count=1)
            pipe.time()
            depth, first, (seconds, micros) = await pipe.execute()
        if not first:
            return QueueStats(int(depth), 0.0)
        created_ms = int(str(first[0][0]).split("-", 1)[0])
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        return QueueStats(int(depth), max(0.0, (now_ms - created_ms) / 1000))

    @staticmethod
    def _entries(raw: list[Any]) -> list[QueueEntry]:
        entries = []
        for entry_id, fields in raw:
            if not fields:  # deleted while pending
                continue
            entries.append(_entry(str(entry_id), fields))
        return entries


def _entry(entry_id: str, fields: dict[Any, Any]) -> QueueEntry:
    """One entry as the worker handles it; one that cannot be read carries its ``problem`` instead."""
    key = fields.get("sk")
    if not isinstance(key, str) or not key:
        return QueueEntry(entry_id, f"?{entry_id}", None, problem="entry has no subject")
    event_json = fields.get("event")
    try:
        event = AlertEvent.model_validate_json(event_json) if event_json else None
    except ValidationError as exc:
        return QueueEntry(entry_id, key, None, problem=f"unreadable event ({exc.error_count()} problem(s))")
    return QueueEntry(entry_id, key, event)


def _stream_items(reply: Any) -> list[Any]:
    """The entries of a one-stream ``XREADGROUP`` reply (RESP2 list or RESP3 map)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return list(next(iter(reply.values()))[0]) if reply else []
    return list(reply[0][1])
