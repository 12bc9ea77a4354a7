"""The alert worker: queue entry → fold into the subject → route → render → post or update → acknowledge.

Every replica runs one worker in the same consumer group. Per batch, entries are grouped by
subject; each subject is handled under its lock, so its messages are written in order and
several events for it in one batch cost one Slack write. An entry is acknowledged only once
every channel it concerns shows the state it produced, or — for a channel where it is a line
of a digest — once that digest is scheduled for a write (durably, in Redis). Digests are
written after the batch, one writer per digest (``bot.alerts.digests``), so subjects joining
a digest never wait for each other.

Failure handling, per subject:
* lock held elsewhere → the entries stay pending and are tried again shortly;
* transient Slack trouble (5xx, timeouts, rate limits beyond patience) → retried with capped
  backoff until the entry has failed ``max_attempts`` times *and* for ``retry_window_seconds``;
  then it is parked as a *transient* dead letter, which the worker replays by itself once Slack
  accepts writes again (a successful write, or a replayed letter going through as a canary);
* permanent Slack refusal (``channel_not_found``…) → dead-letter list at once;
* anything else going wrong with one subject (an unreadable entry or record, a rendering bug,
  a Block Kit limit…) → its entries are dead-lettered with the reason, logged with the
  traceback, and the worker goes on with the others;
* Redis unreachable → the entries stay pending; the loop waits Redis out;
* a post with no certain outcome (timeout, crash, Redis gone mid-post) — an alert's message, a
  follow-up in its thread or a digest → the intent saved before it is looked up in the channel
  or the thread (:mod:`bot.alerts.recovery`) before anything is posted again; while that lookup
  has to wait, the entries (or the digest) stay pending without counting as failed;
* this process dies → another replica takes the entries over after ``take_over_after_seconds``.

Anything that escapes the loop itself is left to the supervisor (:mod:`bot.supervisor`), which
logs it, counts it and restarts the worker.
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

from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.events import AlertEvent
from bot.alerts.delivery import DeliveryFailed, PostUncertain, SlackDelivery
from bot.alerts.digests import Digests, arrival_rank
from bot.alerts.ledger import Ledger, Note, PostIntent, SubjectRecord, Target
from bot.alerts.queue import AlertQueue, QueueEntry
from bot.alerts.recovery import (
    ALERT_EVENT_TYPE,
    DIGEST_EVENT_TYPE,
    FOLLOW_UP_EVENT_TYPE,
    LookupPending,
    OncePoster,
    PostFinder,
    Remember,
)
from bot.alerts.state import ENTRY_TOTALS, AlertState
from bot.alerts.tally import EntryTally
from bot.alerts.view import count_phrase, render, render_digest, resolver
from bot.config import AlertRoute, AlertSettings
from bot.logs import bind_here
from bot.metrics import ALERT_DELIVERIES, ALERT_REPLAYS
from bot.routing import quiet_until, routes_for

log = logging.getLogger(__name__)

BATCH = 50
_CLOSING_KINDS = {"lost_call.resolved", "voicemail.removed", "queue.recovered"}
#: The longest pause between two attempts at an entry Slack keeps failing.
MAX_RETRY_DELAY_SECONDS = 60.0
#: Redis being away: not the subject's fault, so its entries stay pending and the loop waits it out.
_REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, OSError)


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
        workspace: str = "",
    ) -> None:
        self.queue = queue
        #: The scope of the workspace this pipeline posts in, carried by its buttons ("": the only one).
        self.workspace = workspace
        self.keys = queue.keys
        self.redis = queue.redis
        # A lock outlives a crashed holder by as long as a crashed worker's entries wait for take-over.
        self.ledger = Ledger(self.redis, self.keys, lock_seconds=max(2.0, settings.delivery.take_over_after_seconds))
        self.digests = Digests(self.redis, self.keys)
        self.tally = EntryTally(self.redis, self.keys)
        self.delivery = delivery
        self.poster = OncePoster(delivery, finder or PostFinder(delivery.client, tokens=delivery.tokens))
        self.settings = settings
        self.tz = tz
        self.consumer = consumer or consumer_name()
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._retry_at: dict[str, float] = {}
        self._last_take_over = 0.0
        #: How often transient dead letters are looked at for replay (see ``_replay_parked``).
        self.parked_check_seconds = 30.0
        self._parked_checked_at = time.monotonic()
        self.busy = False  # True while a batch is being delivered (stop waits for it)
        #: phonebot's own Listen link for an alert, when it has one (set once the URL tokens are loaded).
        self.listen_link: Callable[[AlertState], str | None] = lambda state: None

    # -- the loop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; Redis outages are waited out, anything else is the supervisor's."""
        backoff = 0.5
        while not stop.is_set():
            try:
                await self.queue.ensure_group()
                while not stop.is_set():
                    await self.tick(block_ms=500)
                    backoff = 0.5
            except _REDIS_AWAY as exc:
                log.warning("alert worker lost Redis (%s); retrying in %.1f s", type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10)

    async def tick(self, *, block_ms: int = 0) -> int:
        """One round: write due digests, replay parked, take over, retry mine, read new, write the digests they changed.

        Returns entries finished.
        """
        await self._release_due_digests()
        await self._replay_parked()
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
            await self._release_due_digests()  # the batch's digest edits, coalesced: one write per digest
        finally:
            self.busy = False
        if done == 0:
            await asyncio.sleep(0.05)  # everything deferred: don't spin
        return done

    async def process(self, entries: list[QueueEntry]) -> int:
        """Handle a batch: subjects in parallel, each subject's entries in order."""
        by_subject: dict[str, list[QueueEntry]] = {}
        poisoned = 0
        for entry in entries:
            if entry.problem is not None:  # cannot even be read: nothing will ever deliver it
                await self.queue.dead_letter(entry, f"unreadable queue entry: {entry.problem}")
                ALERT_DELIVERIES.labels("dead_lettered").inc()
                poisoned += 1
                continue
            by_subject.setdefault(entry.subject_key, []).append(entry)
        results = await asyncio.gather(*(self._subject(key, group) for key, group in by_subject.items()))
        return poisoned + sum(results)

    # -- one subject ------------------------------------------------------------------------
    async def _subject(self, subject_key: str, entries: list[QueueEntry]) -> int:
        bind_here(subject=subject_key)  # each subject runs as a task of its own (``process``)
        async with self._slots, self.ledger.locked(subject_key) as held:
            if not held:
                return 0  # another worker is on this subject; ours stay pending and come round again
            try:
                return await self._deliver(subject_key, entries)
            except LookupPending as exc:  # not a failure: nothing may be posted until the lookup can run
                for entry in entries:
                    self._retry_at[entry.id] = time.monotonic() + exc.retry_in
                return 0
            except DeliveryFailed as exc:
                await self._failed(entries, exc)
                return 0
            except _REDIS_AWAY:
                raise  # not this subject's fault: its entries stay pending until Redis is back
            except Exception as exc:  # one bad subject must never stop the others
                log.exception("alert subject %s could not be handled; dead-lettering it", subject_key[:200])
                for entry in entries:
                    await self.queue.dead_letter(entry, f"could not be handled: {_describe(exc)}")
                    self._retry_at.pop(entry.id, None)
                ALERT_DELIVERIES.labels("dead_lettered").inc(len(entries))
                return len(entries)

    async def _deliver(self, subject_key: str, entries: list[QueueEntry]) -> int:
        record = await self.ledger.load(subject_key)
        for entry in entries:
            if entry.event is not None:
                await self._fold(record, entry)
        if record.targets:  # shown somewhere; what no route shows is not stored (``_fold``)
            await self.ledger.save(record)
        await self._sync(record)
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
        routes = routes_for(event, self.settings.routes)
        if not routes and not record.targets:
            return  # no channel shows it: nothing to fold, nothing to store
        if event.idempotency_key not in record.applied:
            event = await self._with_entry_totals(record.key, event)
        previous, changed = record.fold(event)
        if not changed or record.state is None:
            return
        note = _follow_up(previous, record.state, self.tz)
        if note:
            record.add_note(note)
        for route in routes:
            target = record.targets.get(route.channel)
            if target is None:
                record.targets[route.channel] = await self._place(record.key, route, arrived=arrival_rank(entry.id))
            elif self._hold_is_over(target):
                # First change since the quiet time ended: the subject leaves the quiet digest (which
                # is re-rendered once to show its current state) and is placed afresh, buttons and all.
                assert target.digest_id is not None
                if await self.digests.changed(target.digest_id, now=self.clock().timestamp()):
                    await self.digests.schedule(target.digest_id, self.clock().timestamp())
                record.targets[route.channel] = await self._place(record.key, route, arrived=arrival_rank(entry.id))

    def _hold_is_over(self, target: Target) -> bool:
        """A subject held in a quiet-hours/snooze digest whose quiet time has ended."""
        if target.mode != "digest" or not target.digest_id or not target.digest_id.startswith("quiet:"):
            return False
        held_until = target.held_until
        if held_until is None:  # placed before the field existed: the id ends with the release time
            try:
                held_until = float(target.digest_id.rsplit(":", 1)[1])
            except ValueError:
                return False
        return held_until <= self.clock().timestamp()

    async def _with_entry_totals(self, subject_key: str, event: AlertEvent) -> AlertEvent:
        """An event about one entry of a list (a campaign's receiver) carries the list's exact totals per state."""
        entry, state = event.detail.get("entry"), event.detail.get("entry_state")
        if not (isinstance(entry, str) and entry and isinstance(state, str) and state):
            return event
        totals = await self.tally.count(subject_key, entry, state)
        return event.model_copy(update={"detail": {**event.detail, ENTRY_TOTALS: totals}})

    async def _place(self, subject_key: str, route: AlertRoute, *, arrived: float) -> Target:
        """Where a subject goes in a channel it is new to: held, folded into a burst digest, or its own message."""
        now = self.clock()
        held_until = await self._held_until(route, now)
        if held_until is not None:
            title = f"While *{route.name or 'this channel'}* was quiet"
            digest_id = await self.digests.quiet(route.channel, held_until.timestamp(), title)
            if await self.digests.add(digest_id, subject_key, now=now.timestamp(), arrived=arrived):
                return Target(
                    channel=route.channel, mode="digest", digest_id=digest_id, held_until=held_until.timestamp()
                )
        minute = int(now.timestamp() // 60)
        rate_key = self.keys.rate(route.channel, minute)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(rate_key)
            pipe.expire(rate_key, 180)
            count = int((await pipe.execute())[0])
        if count > route.digest_after_per_minute:
            digest_id = await self.digests.burst(route.channel)
            if await self.digests.add(digest_id, subject_key, now=now.timestamp(), arrived=arrived):
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
        for channel, target in list(record.targets.items()):
            if target.synced >= record.version and not target.notes:
                continue
            if target.mode == "digest" and target.digest_id:
                digest_id = target.digest_id
                if target.synced < record.version:
                    # Scheduled, not written: the digest's one writer renders it after the batch.
                    if not await self.digests.changed(digest_id, now=self.clock().timestamp()):
                        # The digest expired while the subject lived on: it gets a message of its own again.
                        log.info("digest %s is gone; %s gets its own message", digest_id, record.key[:200])
                        target = record.targets[channel] = Target(channel=channel)
                        await self._sync_message(record, record.state, target)
                        continue
                    target.synced = record.version
                    await self.ledger.save(record)
                continue
            await self._sync_message(record, record.state, target)

    async def _sync_message(self, record: SubjectRecord, state: AlertState, target: Target) -> None:
        if target.synced < record.version:
            link = self.listen_link(state)
            shown = state.model_copy(update={"listen_url": link}) if link else state
            message = render(shown, tz=self.tz, snooze_minutes=self.settings.snooze_minutes, workspace=self.workspace)
            if target.ts is None and target.posting is not None:
                target.ts = await self.poster.adopt(target.channel, target.posting)  # the update brings it up to date
                target.posting = None
                await self.ledger.save(record)
            if target.ts is not None:
                try:
                    await self.delivery.update(target.channel, target.ts, text=message.text, blocks=message.blocks)
                except DeliveryFailed as exc:
                    if exc.error != "message_not_found":
                        raise
                    target.ts = None  # someone deleted it: post it again
            if target.ts is None:
                target.ts = await self.poster.post(
                    target.channel,
                    self._remember(record, target),
                    event_type=ALERT_EVENT_TYPE,
                    payload={"subject": record.key},
                    text=message.text,
                    blocks=message.blocks,
                )
                target.posting = None
            target.synced = record.version
            await self.ledger.save(record)
        while target.notes:
            note, thread = target.notes[0], target.ts
            if note.posting is None or await self.poster.adopt(target.channel, note.posting, thread_ts=thread) is None:
                await self.poster.post(
                    target.channel,
                    self._remember(record, note),
                    event_type=FOLLOW_UP_EVENT_TYPE,
                    payload={"subject": record.key, "follow_up": note.seq},
                    text=note.text,
                    thread_ts=thread,
                )
            target.notes.pop(0)
            await self.ledger.save(record)

    def _remember(self, record: SubjectRecord, holder: Target | Note) -> Remember:
        """Keeps a post's intent with the channel or follow-up it is for, saved in the subject's record."""

        async def remember(intent: PostIntent | None) -> None:
            holder.posting = intent
            await self.ledger.save(record)

        return remember

    # -- digests ----------------------------------------------------------------------------
    async def sync_digest(self, digest_id: str) -> None:
        """Post or update a digest message unless it is held back or already current.

        Never waits for the digest's lock: whoever holds it is the writer, and a change it did not
        see keeps the digest scheduled (``Digests.mark_synced``), so nothing is lost by moving on.
        """
        async with self.ledger.locked(f"digest:{digest_id}", wait=0) as held:
            if not held:
                return
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
            message = render_digest(title, states, tz=self.tz, digest_id=digest_id)
            ts = digest.ts
            if ts is None and digest.posting is not None:
                ts = await self.poster.adopt(digest.channel, digest.posting)  # the update brings it up to date
                if ts is not None:
                    await self.digests.adopted(digest_id, ts)
            if ts is not None:
                await self.delivery.update(digest.channel, ts, text=message.text, blocks=message.blocks)
            else:
                ts = await self.poster.post(
                    digest.channel,
                    lambda intent: self.digests.intend(digest_id, intent),
                    event_type=DIGEST_EVENT_TYPE,
                    payload={"digest": digest_id},
                    text=message.text,
                    blocks=message.blocks,
                )
            next_edit_at = self.clock().timestamp() + self.settings.delivery.digest_refresh_seconds
            await self.digests.mark_synced(digest_id, ts=ts, version=digest.version, next_edit_at=next_edit_at)

    async def _states(self, subject_keys: list[str]) -> list[AlertState | None]:
        if not subject_keys:
            return []
        raws = await self.redis.mget([self.keys.record(key) for key in subject_keys])
        states: list[AlertState | None] = []
        for key, raw in zip(subject_keys, raws, strict=True):
            try:
                states.append(SubjectRecord.model_validate_json(raw).state if raw else None)
            except ValidationError:  # one unreadable member must not take the whole digest down
                log.warning("subject record %s is unreadable; left out of its digest", key[:200])
                states.append(None)
        return states

    async def _release_due_digests(self) -> None:
        for digest_id in await self.digests.due(self.clock().timestamp()):
            if self._retry_at.get(digest_id, 0) > time.monotonic():
                continue
            try:
                await self.sync_digest(digest_id)  # takes it off the schedule once written
                self._retry_at.pop(digest_id, None)
            except LookupPending as exc:  # an earlier post is to be looked for first: not a failure
                self._retry_at[digest_id] = time.monotonic() + exc.retry_in
            except DeliveryFailed as exc:
                # An uncertain post is looked for as soon as that can tell (the lookup says when).
                self._retry_at[digest_id] = time.monotonic() + (0 if isinstance(exc, PostUncertain) else 5)
                log.warning("digest %s not written yet: %s", digest_id, exc.reason)
            except _REDIS_AWAY:
                raise
            except Exception:  # a digest that cannot be written must not stop every other alert
                log.exception("digest %s could not be written; taken off the schedule", digest_id)
                await self.digests.released(digest_id)
                ALERT_DELIVERIES.labels("digest_failed").inc()

    # -- failures ---------------------------------------------------------------------------
    async def _failed(self, entries: list[QueueEntry], exc: DeliveryFailed) -> None:
        delivery = self.settings.delivery
        for entry in entries:
            failures = await self.queue.count_failure(entry.id)
            attempts = failures.attempts
            failing_for = max(0.0, time.time() - failures.first_at)
            if exc.permanent:
                await self.queue.dead_letter(entry, f"{exc.reason} (after {attempts} attempt(s))")
            elif attempts >= delivery.max_attempts and failing_for >= delivery.retry_window_seconds:
                reason = (
                    f"{exc.reason} (after {attempts} attempts over {failing_for:.0f} s; replayed once Slack answers)"
                )
                await self.queue.dead_letter(entry, reason, transient=True)
            else:
                delay = min(MAX_RETRY_DELAY_SECONDS, delivery.backoff_seconds * 2**attempts)
                self._retry_at[entry.id] = time.monotonic() + delay
                ALERT_DELIVERIES.labels("retry").inc()
                log.warning(
                    "alert %s not delivered (%s); attempt %d, retrying in %.1f s", entry.id, exc, attempts, delay
                )
                continue
            ALERT_DELIVERIES.labels("dead_lettered").inc()
            self._retry_at.pop(entry.id, None)

    async def _replay_parked(self) -> None:
        """Replay transient dead letters once Slack takes writes again.

        Every ``parked_check_seconds``: if Slack accepted a write since the last look, every
        transient letter goes back into the queue; if nothing is being retried that would tell,
        the oldest one goes back alone, as a canary whose delivery brings the others back.
        """
        now = time.monotonic()
        if now - self._parked_checked_at < self.parked_check_seconds:
            return
        slack_answered = self.delivery.last_success >= self._parked_checked_at
        self._parked_checked_at = now
        letters = [letter for letter in await self.queue.dead_letters() if letter.transient]
        if not letters or not (slack_answered or not self._retry_at):
            return
        chosen = letters if slack_answered else letters[:1]
        for letter in chosen:
            if await self.queue.replay(letter.id):
                ALERT_REPLAYS.inc()
        log.info("replayed %d of %d alert(s) parked while Slack was unavailable", len(chosen), len(letters))

    async def _take_over_if_due(self) -> list[QueueEntry]:
        idle = self.settings.delivery.take_over_after_seconds
        if time.monotonic() - self._last_take_over < min(idle / 2, 5):
            return []
        self._last_take_over = time.monotonic()
        return await self.queue.take_over(self.consumer, min_idle_ms=int(idle * 1000), count=BATCH)


def _describe(exc: BaseException) -> str:
    """A dead letter's reason for an unexpected error: its type and a bounded message."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message[:300]}" if message else type(exc).__name__


def _follow_up(previous: AlertState | None, current: AlertState, tz: ZoneInfo) -> str | None:
    """A thread reply for a change of status worth a notification of its own."""
    if previous is None or previous.status == current.status:
        return None
    at = (current.resolved_at or current.last_at).astimezone(tz).strftime("%H:%M")
    by = resolver(current)
    who = f" by {by}" if by else ""
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
