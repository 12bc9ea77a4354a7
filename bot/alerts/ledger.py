"""What phonebot remembers per alert subject: its folded state and where it is shown in Slack.

A :class:`SubjectRecord` is read, changed and written back only while its subject lock is
held, so replicas never interleave on one subject. Folding is idempotent (the record keeps
the idempotency keys it already folded in), which makes retries after a crash harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field, field_validator
from redis.exceptions import LockError, RedisError

from adapters.events import AlertEvent
from bot.alerts.queue import AlertKeys
from bot.alerts.state import AlertState, merge

log = logging.getLogger(__name__)

RECORD_TTL_SECONDS = 30 * 24 * 3600
APPLIED_KEYS_KEPT = 200


class PostIntent(BaseModel):
    """A post that was started and not yet confirmed: until then, Slack may or may not show it."""

    nonce: str  # sent in the message's metadata, so the message can be recognised
    since: float  # wall-clock seconds when the post was started


class Note(BaseModel):
    """A follow-up still to be posted in the thread of a subject's message."""

    text: str
    seq: int = 0  # its number among the thread's follow-ups (0: queued before they were numbered)
    #: Saved before ``chat.postMessage``; while set, the reply may be in the thread and is looked for first.
    posting: PostIntent | None = None


class Target(BaseModel):
    """One channel an alert is shown in: its own message, or a line in a digest message."""

    channel: str
    mode: Literal["message", "digest"] = "message"
    digest_id: str | None = None
    ts: str | None = None  # the message's ts once posted (mode "message")
    held_until: float | None = None  # unix time a quiet-hours/snooze digest holds the subject until
    #: Saved before ``chat.postMessage``, cleared once its ``ts`` is saved: set with no ``ts``, the
    #: post's outcome is unknown (timeout, crash, Redis gone) and the message is looked for first.
    posting: PostIntent | None = None
    synced: int = 0  # record version the channel shows
    notes: list[Note] = Field(default_factory=list)  # thread replies still to post, oldest first
    follow_ups: int = 0  # follow-ups queued for this message's thread so far

    @field_validator("notes", mode="before")
    @classmethod
    def _plain_notes(cls, value: object) -> object:
        """Records saved before notes were numbered hold their text only."""
        if isinstance(value, list):
            return [{"text": note} if isinstance(note, str) else note for note in value]
        return value


class SubjectRecord(BaseModel):
    """State and Slack placement of one subject (``vendor|subject``)."""

    key: str
    state: AlertState | None = None
    version: int = 0
    applied: list[str] = Field(default_factory=list)
    targets: dict[str, Target] = Field(default_factory=dict)

    def fold(self, event: AlertEvent) -> tuple[AlertState | None, bool]:
        """Merge ``event`` in unless already folded; returns (previous state, changed)."""
        if event.idempotency_key in self.applied:
            return self.state, False
        previous = self.state
        self.state = merge(previous, event)
        self.applied = [*self.applied, event.idempotency_key][-APPLIED_KEYS_KEPT:]
        if self.state == previous:
            return previous, False  # a new delivery of facts already shown: no Slack write
        self.version += 1
        return previous, True

    def touch(self) -> None:
        """The state changed outside of an event (a button): every channel must catch up."""
        self.version += 1

    def add_note(self, note: str) -> None:
        """A follow-up for the thread of every message already posted."""
        for target in self.targets.values():
            if target.mode == "message" and target.ts is not None:
                target.follow_ups += 1
                target.notes.append(Note(text=note, seq=target.follow_ups))


class Ledger:
    """Loads and saves subject records; hands out subject locks."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys, *, lock_seconds: float = 30.0) -> None:
        self.redis = redis
        self.keys = keys
        self.lock_seconds = lock_seconds

    async def load(self, subject_key: str) -> SubjectRecord:
        raw = await self.redis.get(self.keys.record(subject_key))
        return SubjectRecord.model_validate_json(raw) if raw else SubjectRecord(key=subject_key)

    async def load_many(self, subject_keys: list[str]) -> list[SubjectRecord | None]:
        """Records of several subjects in one round trip (``None`` where there is none)."""
        if not subject_keys:
            return []
        raws = await self.redis.mget([self.keys.record(key) for key in subject_keys])
        return [SubjectRecord.model_validate_json(raw) if raw else None for raw in raws]

    async def save(self, record: SubjectRecord) -> None:
        await self.redis.set(self.keys.record(record.key), record.model_dump_json(), ex=RECORD_TTL_SECONDS)

    @contextlib.asynccontextmanager
    async def locked(self, name: str, *, wait: float = 0.2) -> AsyncIterator[bool]:
        """Hold the lock ``name`` (renewed while held); yields ``False`` if another holder has it."""
        lock = self.redis.lock(self.keys.lock(name), timeout=self.lock_seconds, blocking_timeout=wait)
        if not await lock.acquire():
            yield False
            return
        renew = asyncio.create_task(self._keep(lock))
        try:
            yield True
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            with contextlib.suppress(LockError):
                await lock.release()

    async def _keep(self, lock: aioredis.lock.Lock) -> None:
        while True:
            await asyncio.sleep(self.lock_seconds / 3)
            try:
                await lock.reacquire()
            except LockError:
                log.warning("lost a subject lock while holding it")
                return
            except (RedisError, OSError) as exc:  # Redis hiccup: keep trying while the lock has time left
                log.warning("could not renew a subject lock (%s); trying again", type(exc).__name__)
