"""The alert worker: queue entry → fold into the subject → route → render → post or update → acknowledge.

Every replica runs one worker in the same consumer group. Per batch, entries are grouped by
subject; each subject is handled under its lock, so its messages are written in order and
several events for it in one batch cost one Slack write. An entry is acknowledged only once
every channel it concerns shows the state it produced (or holds it in a quiet-hours digest).

Failure handling, per subject:
* lock held elsewhere → the entries stay pending and are tried again shortly;
* transient Slack trouble → retried later; after ``max_attempts`` → dead-letter list;
* permanent Slack refusal (``channel_not_found``…) → dead-letter list at once;
* a post with no certain outcome (timeout, crash, Redis gone mid-post) → the intent saved before
  it is looked up in the channel (:mod:`bot.alerts.recovery`) before anything is posted again;
  while that lookup has to wait, the entries stay pending without counting as failed;
* this process dies → another replica takes the entries over after ``take_over_after_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bot.alerts.delivery import DeliveryFailed, PostUncertain, SlackDelivery
from bot.alerts.digests import Digests
from bot.alerts.ledger import Ledger, PostIntent, SubjectRecord, Target
from bot.alerts.queue import AlertQueue, QueueEntry
from bot.alerts.recovery import LookupPending, PostFinder, alert_metadata, new_nonce
from bot.config import AlertRoute, AlertSettings
from bot.metrics import ALERT_DELIVERIES
from bot.routing import quiet_until, routes_for
from handlers.alert_view import AlertState, count_phrase, render, render_digest

log = logging.getLogger(__name__)

BATCH = 50
_CLOSING_KINDS = {"lost_call.resolved", "voicemail.removed", "queue.recovered"}


def consumer_name() -> str:
    """A name unique to this process, readable in ``XINFO CONSUMERS``."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class AlertWorker:
    """Consumes the alert queue and keeps Slack in step with it."""

    def __init__(
        self,
        queue: AlertQueue,
        delivery: SlackDelivery,
        settings: AlertSettings,
        *,
        tz: ZoneInfo,
        consumer: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        concurrency: int = 8,
        finder: PostFinder | None = None,
    ) -> None:
        self.queue = queue
        self.keys = queue.keys
        self.redis = queue.redis
        # A lock outlives a crashed holder by as long as a crashed worker's entries wait for take-over.
        self.ledger = Ledger(self.redis, self.keys, lock_seconds=max(2.0, settings.delivery.take_over_after_seconds))
        self.digests = Digests(self.redis, self.keys)
        self.delivery = delivery
        self.finder = finder or PostFinder(delivery.client)
        self.settings = settings
        self.tz = tz
        self.consumer = consumer or consumer_name()
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._retry_at: dict[str, float] = {}
        self._last_take_over = 0.0
        self.busy = False  # True while a batch is being delivered (stop waits for it)
        #: phonebot's own Listen link for an alert, when it has one (set once the URL tokens are loaded).
        self.listen_link: Callable[[AlertState], str | None] = lambda state: None

    # -- the loop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; Redis outages are waited out, not fatal."""
        backoff = 0.5
        while not stop.is_set():
            try:
                await self.queue.ensure_group()
                while not stop.is_set():
                    await self.tick(block_ms=500)
                    backoff = 0.5
            except (RedisConnectionError, OSError) as exc:
                log.warning("alert worker lost Redis (%s); retrying in %.1f s", type(exc).__name__, backoff)
            except RedisError as exc:
                log.error("alert worker Redis error: %s", exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)

    async def tick(self, *, block_ms: int = 0) -> int:
        """One round: write due digests, take over, retry mine, read new. Returns entries finished."""
        await self._release_due_digests()
        entries = await self._take_over_if_due()
        now = time.monotonic()
        entries += [
            e for e in await self.queue.read_mine(self.consumer, count=BATCH) if e.id not in {x.id for x in entries}
        ]
        entries = [e for e in entries if self._retry_at.get(e.id, 0) <= now]
        if not entries:
            entries = await self.queue.read_new(self.consumer, count=BATCH, block_ms=block_ms)
        if not entries:
            return 0
        self.busy = True
        try:
            done = await self.process(entries)
        finally:
            self.busy = False
        if done == 0:
            await asyncio.sleep(0.05)  # everything deferred: don't spin
        return done

    async def process(self, entries: list[QueueEntry]) -> int:
        """Handle a batch: subjects in parallel, each subject's entries in order."""
        by_subject: dict[str, list[QueueEntry]] = {}
        for entry in entries:
            by_subject.setdefault(entry.subject_key, []).append(entry)
        results = await asyncio.gather(*(self._subject(key, group) for key, group in by_subject.items()))
        return sum(results)

    # -- one subject ------------------------------------------------------------------------
    async def _subject(self, subject_key: str, entries: list[QueueEntry]) -> int:
        async with self._slots, self.ledger.locked(subject_key) as held:
            if not held:
                return 0  # another worker is on this subject; ours stay pending and come round again
            record = await self.ledger.load(subject_key)
            for entry in entries:
                if entry.event is not None:
                    await self._fold(record, entry)
            await self.ledger.save(record)
            try:
                await self._sync(record)
            except LookupPending as exc:  # not a failure: nothing may be posted until the lookup can run
                for entry in entries:
                    self._retry_at[entry.id] = time.monotonic() + exc.retry_in
                return 0
            except DeliveryFailed as exc:
                await self._failed(entries, exc)
                return 0
            await self.queue.ack(*(entry.id for entry in entries))
            for entry in entries:
                self._retry_at.pop(entry.id, None)
            ALERT_DELIVERIES.labels("delivered").inc(len(entries))
            return len(entries)

    async def _fold(self, record: SubjectRecord, entry: QueueEntry) -> None:
        event = entry.event
        assert event is not None
        if record.state is None and event.kind.value in _CLOSING_KINDS:
            return  # the end of something we never showed: nothing to say
        previous, changed = record.fold(event)
        if not changed or record.state is None:
            return
        note = _follow_up(previous, record.state, self.tz)
        if note:
            record.add_note(note)
        for route in routes_for(event, self.settings.routes):
            if route.channel not in record.targets:
                record.targets[route.channel] = await self._place(record.key, route)

    async def _place(self, subject_key: str, route: AlertRoute) -> Target:
        """Where a subject goes in a channel it is new to: held, folded into a burst digest, or its own message."""
        now = self.clock()
        held_until = await self._held_until(route, now)
        if held_until is not None:
            title = f"While *{route.name or 'this channel'}* was quiet"
            digest_id = await self.digests.quiet(route.channel, held_until.timestamp(), title)
            await self.digests.add(digest_id, subject_key)
            return Target(channel=route.channel, mode="digest", digest_id=digest_id)
        minute = int(now.timestamp() // 60)
        rate_key = self.keys.rate(route.channel, minute)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(rate_key)
            pipe.expire(rate_key, 180)
            count = int((await pipe.execute())[0])
        if count > route.digest_after_per_minute:
            digest_id = await self.digests.burst(route.channel)
            await self.digests.add(digest_id, subject_key)
            return Target(channel=route.channel, mode="digest", digest_id=digest_id)
        return Target(channel=route.channel)

    async def _held_until(self, route: AlertRoute, now: datetime) -> datetime | None:
        quiet = quiet_until(route.quiet_hours, now, self.tz)
        snoozed_raw = await self.redis.get(self.keys.snooze(route.channel))
        snoozed = datetime.fromtimestamp(float(snoozed_raw), UTC) if snoozed_raw else None
        if snoozed is not None and snoozed <= now:
            snoozed = None
        candidates = [moment for moment in (quiet, snoozed) if moment is not None]
        return max(candidates) if candidates else None

    async def _sync(self, record: SubjectRecord) -> None:
        """Bring every channel of the subject up to the record's version."""
        if record.state is None:
            return
        for target in record.targets.values():
            if target.synced >= record.version and not target.notes:
                continue
            if target.mode == "digest" and target.digest_id:
                if target.synced < record.version:
                    await self.digests.changed(target.digest_id)
                    target.synced = record.version
                    await self.ledger.save(record)
                await self.sync_digest(target.digest_id)
                continue
            await self._sync_message(record, record.state, target)

    async def _sync_message(self, record: SubjectRecord, state: AlertState, target: Target) -> None:
        if target.synced < record.version:
            link = self.listen_link(state)
            shown = state.model_copy(update={"listen_url": link}) if link else state
            message = render(shown, tz=self.tz, snooze_minutes=self.settings.snooze_minutes)
            if target.ts is None and target.posting is not None:
                await self._recover_post(record, target)
            if target.ts is not None:
                try:
                    await self.delivery.update(target.channel, target.ts, text=message.text, blocks=message.blocks)
                except DeliveryFailed as exc:
                    if exc.error != "message_not_found":
                        raise
                    target.ts = None  # someone deleted it: post it again
            if target.ts is None:
                # The intent is saved first: if no answer comes back, the next attempt looks before posting.
                target.posting = PostIntent(nonce=new_nonce(), since=self.finder.now())
                await self.ledger.save(record)
                try:
                    target.ts = await self.delivery.post(
                        target.channel,
                        text=message.text,
                        blocks=message.blocks,
                        metadata=alert_metadata(record.key, target.posting.nonce),
                    )
                except PostUncertain:
                    raise  # the intent stays: looked for next time
                except DeliveryFailed:
                    target.posting = None  # Slack answered no (or was never reached): nothing to look for
                    await self.ledger.save(record)
                    raise
                target.posting = None
            target.synced = record.version
            await self.ledger.save(record)
        while target.notes:
            await self.delivery.post(target.channel, text=target.notes[0], thread_ts=target.ts)
            target.notes.pop(0)
            await self.ledger.save(record)

    async def _recover_post(self, record: SubjectRecord, target: Target) -> None:
        """An earlier post of this message has no known outcome: adopt it if Slack shows it."""
        assert target.posting is not None
        ts = await self.finder.find(target.channel, target.posting.nonce, target.posting.since)
        target.posting = None
        if ts is not None:
            target.ts = ts  # the update below brings it up to date
        await self.ledger.save(record)

    # -- digests ----------------------------------------------------------------------------
    async def sync_digest(self, digest_id: str) -> None:
        """Post or update a digest message unless it is held back or already current."""
        async with self.ledger.locked(f"digest:{digest_id}", wait=30) as held:
            if not held:
                raise DeliveryFailed("digest busy", permanent=False)
            digest = await self.digests.get(digest_id)
            if digest is None:
                return
            now = self.clock().timestamp()
            if now < digest.not_before:
                if digest.synced < digest.version:
                    await self.digests.schedule(digest_id, digest.not_before)  # one coalesced write, later
                return
            if digest.synced >= digest.version:
                await self.digests.released(digest_id)
                return
            members = await self.digests.members(digest_id)
            states = [state for state in await self._states(members) if state is not None]
            if digest.kind == "burst":
                title = f":bell: *+{count_phrase(states, more=True)}* — too many at once, so they are listed here"
            else:
                title = f":zzz: {digest.title}: *{count_phrase(states)}*"
            message = render_digest(title, states, tz=self.tz)
            if digest.ts:
                await self.delivery.update(digest.channel, digest.ts, text=message.text, blocks=message.blocks)
                ts = digest.ts
            else:
                ts = await self.delivery.post(digest.channel, text=message.text, blocks=message.blocks)
            next_edit_at = self.clock().timestamp() + self.settings.delivery.digest_refresh_seconds
            await self.digests.mark_synced(digest_id, ts=ts, version=digest.version, next_edit_at=next_edit_at)

    async def _states(self, subject_keys: list[str]) -> list[AlertState | None]:
        if not subject_keys:
            return []
        raws = await self.redis.mget([self.keys.record(key) for key in subject_keys])
        return [SubjectRecord.model_validate_json(raw).state if raw else None for raw in raws]

    async def _release_due_digests(self) -> None:
        for digest_id in await self.digests.due(self.clock().timestamp()):
            if self._retry_at.get(digest_id, 0) > time.monotonic():
                continue
            try:
                await self.sync_digest(digest_id)  # takes it off the schedule once written
            except DeliveryFailed as exc:
                self._retry_at[digest_id] = time.monotonic() + 5
                log.warning("digest %s not written yet: %s", digest_id, exc.reason)

    # -- failures ---------------------------------------------------------------------------
    async def _failed(self, entries: list[QueueEntry], exc: DeliveryFailed) -> None:
        for entry in entries:
            attempts = await self.queue.count_failure(entry.id)
            if exc.permanent or attempts >= self.settings.delivery.max_attempts:
                await self.queue.dead_letter(entry, f"{exc.reason} (after {attempts} attempt(s))")
                ALERT_DELIVERIES.labels("dead_lettered").inc()
                self._retry_at.pop(entry.id, None)
            else:
                delay = min(60.0, self.settings.delivery.backoff_seconds * 2**attempts)
                self._retry_at[entry.id] = time.monotonic() + delay
                ALERT_DELIVERIES.labels("retry").inc()
                log.warning(
                    "alert %s not delivered (%s); attempt %d, retrying in %.1f s", entry.id, exc, attempts, delay
                )

    async def _take_over_if_due(self) -> list[QueueEntry]:
        idle = self.settings.delivery.take_over_after_seconds
        if time.monotonic() - self._last_take_over < min(idle / 2, 5):
            return []
        self._last_take_over = time.monotonic()
        return await self.queue.take_over(self.consumer, min_idle_ms=int(idle * 1000), count=BATCH)


def _follow_up(previous: AlertState | None, current: AlertState, tz: ZoneInfo) -> str | None:
    """A thread reply for a change of status worth a notification of its own."""
    if previous is None or previous.status == current.status:
        return None
    at = (current.resolved_at or current.last_at).astimezone(tz).strftime("%H:%M")
    who = f" by {current.resolved_by}" if current.resolved_by else ""
    if current.status == "resolved":
        if current.family == "queue":
            return f":large_green_circle: Back to normal at {at}."
        return f":white_check_mark: Resolved{who} at {at}."
    if current.status == "removed":
        return f":wastebasket: Deleted or heard elsewhere at {at}."
    if current.status == "open" and current.family == "lost_call":
        return f":telephone_receiver: Called again at {current.last_at.astimezone(tz).strftime('%H:%M')}."
    if current.status == "open":
        return f":rotating_light: Needs attention again at {at}."
    return None
