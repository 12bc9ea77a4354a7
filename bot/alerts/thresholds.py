"""Queue thresholds: turn ``queue_status`` snapshots into ``queue.breached`` / ``queue.recovered`` events.

Pure and vendor-neutral: :func:`evaluate` takes the configured thresholds, the vendor, one
snapshot of that vendor's queues, ``now`` and the state it returned last time, and gives back
the events to queue and the new state (a JSON-serialisable dict the poller persists).

Which thresholds apply to a queue
    A threshold matches when its ``group`` is ``"*"`` or the queue's name or id
    (case-insensitive) and its ``vendor`` is unset or this vendor. Of the matching thresholds
    only the most specific ones count (a named group beats ``"*"``, a vendor filter beats none),
    so ``"*"`` is a default that a named entry overrides. Several equally specific entries are
    merged: any of their conditions breaches, and the shortest ``min_duration_seconds`` applies.

When a queue breaches and recovers (hysteresis)
    * calls waiting ≥ ``calls_waiting`` breaches; recovering needs fewer than
      ``max(1, floor(0.8 * calls_waiting))`` (a limit of 5 recovers at 3 or fewer waiting);
    * longest wait ≥ ``longest_wait_seconds`` breaches; recovering needs less than 80 % of it
      (with nobody waiting, the longest wait counts as 0 whatever the vendor reports);
    * ``no_free_agent``: no free agent (or nobody logged in) breaches; one free agent recovers.

    Between the breach and the recovery figures (the hysteresis band) an open alert stays
    open and a not-yet-alerted queue does not alert. A breach must hold for
    ``min_duration_seconds`` before ``queue.breached`` is sent, and the recovery must hold as
    long before ``queue.recovered``; a brief spike or dip in between resets the wait.

Keeping an open alert current
    While breached, another ``queue.breached`` (same subject, so the same Slack message is
    edited) is sent only when the calls waiting or free agents change, or the longest wait
    enters another step (multiples of ``longest_wait_seconds``, or of 60 s without that limit).
    Idempotency keys carry the breach episode (when the breach was first seen) and those
    figures, so every distinct update is new, a re-evaluation after a crash repeats the same
    keys, and a later breach of the same queue is never mistaken for an old one.

Unknown figures
    A queue missing from the snapshot, or reporting none of the figures its thresholds look
    at, is unknown: nothing is sent and its state is kept as it was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from adapters.events import AlertEvent, AlertKind
from adapters.models import QueueStatus
from bot.config import QueueThreshold

log = logging.getLogger(__name__)

#: Recovery needs the figures this far below the breach limit (calls waiting, longest wait).
RECOVERY_FACTOR = 0.8
#: Without a longest-wait limit, an open alert is refreshed each time the wait grows by this much.
DEFAULT_WAIT_STEP_SECONDS = 60


@dataclass(frozen=True)
class QueueRule:
    """The thresholds in force for one queue, merged from the matching config entries."""

    calls_waiting: int | None = None
    longest_wait_seconds: int | None = None
    no_free_agent: bool = False
    min_duration_seconds: int = 0

    @property
    def recover_calls_below(self) -> int | None:
        """Calls waiting must be below this to count as recovered."""
        if self.calls_waiting is None:
            return None
        return max(1, math.floor(self.calls_waiting * RECOVERY_FACTOR))


def thresholds_for(thresholds: Sequence[QueueThreshold], vendor: str) -> list[QueueThreshold]:
    """The thresholds that may apply to ``vendor``'s queues (no vendor filter, or this vendor)."""
    wanted = vendor.lower()
    return [t for t in thresholds if t.vendor is None or t.vendor.strip().lower() == wanted]


def rule_for(thresholds: Sequence[QueueThreshold], vendor: str, queue: QueueStatus) -> QueueRule | None:
    """The merged rule of the most specific thresholds matching ``queue``, or ``None``."""
    names = {queue.group_id.strip().lower(), queue.name.strip().lower()}
    best: list[QueueThreshold] = []
    best_rank = -1
    for threshold in thresholds_for(thresholds, vendor):
        group = threshold.group.strip().lower()
        if group != "*" and group not in names:
            continue
        rank = (2 if group != "*" else 0) + (1 if threshold.vendor is not None else 0)
        if rank > best_rank:
            best, best_rank = [threshold], rank
        elif rank == best_rank:
            best.append(threshold)
    if not best:
        return None
    calls = [t.calls_waiting for t in best if t.calls_waiting is not None]
    waits = [t.longest_wait_seconds for t in best if t.longest_wait_seconds is not None]
    return QueueRule(
        calls_waiting=min(calls) if calls else None,
        longest_wait_seconds=min(waits) if waits else None,
        no_free_agent=any(t.no_free_agent for t in best),
        min_duration_seconds=min(t.min_duration_seconds for t in best),
    )


# -- state ----------------------------------------------------------------------------------


class _QueueState(BaseModel):
    """One queue that is not simply fine. Queues without an entry are fine."""

    #: pending: breach seen, not alerted yet; breached: alerted; recovering: alerted, recovery seen.
    status: Literal["pending", "breached", "recovering"]
    since: datetime  # when the current status began (pending: first breach seen)
    episode: int  # epoch seconds the breach was first seen; part of every idempotency key
    name: str
    figures: tuple[int | None, int | None, int | None] | None = None  # last alerted (calls, free, wait step)


class _State(BaseModel):
    version: Literal[1] = 1
    queues: dict[str, _QueueState] = {}


def _load(state: Mapping[str, Any] | None) -> _State:
    if not state:
        return _State()
    try:
        return _State.model_validate(state)
    except ValidationError:
        log.warning("queue threshold state is unreadable; starting afresh")
        return _State()


# -- evaluation -----------------------------------------------------------------------------


class _Reading(Enum):
    BREACH = "breach"
    BAND = "band"  # between the breach and the recovery figures
    CLEAR = "clear"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class _Observation:
    reading: _Reading
    calls_waiting: int | None
    longest_wait: int | None
    agents_free: int | None
    breached: list[str]


def _readings(queue: QueueStatus) -> tuple[int | None, int | None, int | None]:
    """(calls waiting, longest wait, free agents) as the thresholds read them."""
    calls = queue.calls_waiting
    wait = 0 if calls == 0 else queue.longest_wait_seconds  # nobody waiting: no wait, whatever is reported
    free = queue.agents_free
    if free is None and queue.agents_logged_in == 0:
        free = 0
    return calls, wait, free


def _observe(rule: QueueRule, queue: QueueStatus) -> _Observation:
    calls, wait, free = _readings(queue)
    known = False
    clear = True
    breached: list[str] = []
    if rule.calls_waiting is not None and calls is not None:
        known = True
        if calls >= rule.calls_waiting:
            breached.append(f"{_calls(calls)} waiting (limit {rule.calls_waiting})")
        clear = clear and calls < (rule.recover_calls_below or 0)
    if rule.longest_wait_seconds is not None and wait is not None:
        known = True
        if wait >= rule.longest_wait_seconds:
            limit = format_duration(rule.longest_wait_seconds)
            breached.append(f"longest wait {format_duration(wait)} (limit {limit})")
        clear = clear and wait < rule.longest_wait_seconds * RECOVERY_FACTOR
    if rule.no_free_agent and free is not None:
        known = True
        if free == 0:
            breached.append("no free agent")
        clear = clear and free > 0
    if not known:
        reading = _Reading.UNKNOWN
    elif breached:
        reading = _Reading.BREACH
    elif clear:
        reading = _Reading.CLEAR
    else:
        reading = _Reading.BAND
    return _Observation(reading, calls, wait, free, breached)


def evaluate(
    thresholds: Sequence[QueueThreshold],
    vendor: str,
    queues: Sequence[QueueStatus],
    *,
    now: datetime,
    state: Mapping[str, Any] | None,
) -> tuple[list[AlertEvent], dict[str, Any]]:
    """Compare one snapshot of ``vendor``'s queues with the thresholds.

    Args:
        thresholds: every configured threshold (those for other vendors are ignored).
        vendor: the adapter's name; events carry it.
        queues: what ``queue_status`` returned just now.
        now: the time of the snapshot (aware).
        state: what the previous call returned (``None`` or ``{}`` the first time).

    Returns:
        The events to queue, in order, and the new state to pass next time.
    """
    previous = _load(state)
    queues_state: dict[str, _QueueState] = dict(previous.queues)
    events: list[AlertEvent] = []
    seen: set[str] = set()
    for queue in queues:
        if queue.group_id in seen:
            continue
        seen.add(queue.group_id)
        current = queues_state.get(queue.group_id)
        rule = rule_for(thresholds, vendor, queue)
        if rule is None:
            if current is not None:
                del queues_state[queue.group_id]
                if current.status != "pending":  # its threshold was removed: close the open alert
                    events.append(_recovered(vendor, queue, current, now, reason="no threshold applies any more"))
            continue
        observation = _observe(rule, queue)
        step = _step(rule, observation.longest_wait)
        event, updated = _advance(vendor, queue, rule, observation, step, current, now)
        if event is not None:
            events.append(event)
        if updated is None:
            queues_state.pop(queue.group_id, None)
        else:
            queues_state[queue.group_id] = updated
    return events, _State(queues=queues_state).model_dump(mode="json")


def _advance(
    vendor: str,
    queue: QueueStatus,
    rule: QueueRule,
    seen: _Observation,
    step: int | None,
    current: _QueueState | None,
    now: datetime,
) -> tuple[AlertEvent | None, _QueueState | None]:
    """One queue's state machine: (event to send, new state; ``None`` = fine)."""
    reading = seen.reading
    if reading is _Reading.UNKNOWN:
        return None, current
    hold = rule.min_duration_seconds
    figures = (seen.calls_waiting, seen.agents_free, step)
    if current is None or current.status == "pending":
        if reading is not _Reading.BREACH:
            return None, None  # a spike that did not last, or no breach at all
        if current is None:
            current = _QueueState(status="pending", since=now, episode=int(now.timestamp()), name=queue.name)
        if (now - current.since).total_seconds() < hold:
            return None, current.model_copy(update={"name": queue.name})
        breached = current.model_copy(update={"status": "breached", "since": now, "name": queue.name})
        return _breached(vendor, queue, rule, seen, breached, figures, now)
    if reading is _Reading.CLEAR:
        recovering = current
        if current.status == "breached":
            recovering = current.model_copy(update={"status": "recovering", "since": now})
        if (now - recovering.since).total_seconds() < hold:
            return None, recovering.model_copy(update={"name": queue.name})
        return _recovered(vendor, queue, recovering, now), None
    # Breach or band while alerted: stays open (a recovery that did not last is cancelled).
    still = current.model_copy(update={"status": "breached", "name": queue.name})
    if current.status == "recovering":
        still = still.model_copy(update={"since": now})
    if current.figures == figures:
        return None, still
    return _breached(vendor, queue, rule, seen, still, figures, now)


def _breached(
    vendor: str,
    queue: QueueStatus,
    rule: QueueRule,
    seen: _Observation,
    state: _QueueState,
    figures: tuple[int | None, int | None, int | None],
    now: datetime,
) -> tuple[AlertEvent, _QueueState]:
    calls, free, step = figures
    key = f"{vendor}:queue:{queue.group_id}:{state.episode}:breached:{_k(calls)}:{_k(free)}:{_k(step)}"
    event = AlertEvent(
        kind=AlertKind.QUEUE_BREACHED,
        vendor=vendor,
        subject=f"queue:{queue.group_id}",
        idempotency_key=key,
        occurred_at=now,
        line=queue.name,
        group_id=queue.group_id,
        text=f"{queue.name}: {_facts(rule, queue, seen)}",
        detail={**_figures(queue, seen), "breached": seen.breached},
    )
    return event, state.model_copy(update={"figures": figures})


def _recovered(
    vendor: str, queue: QueueStatus, state: _QueueState, now: datetime, *, reason: str | None = None
) -> AlertEvent:
    calls, wait, free = _readings(queue)
    seen = _Observation(_Reading.CLEAR, calls, wait, free, [])
    detail: dict[str, Any] = {**_figures(queue, seen), "breached": []}
    if reason:
        detail["reason"] = reason
    return AlertEvent(
        kind=AlertKind.QUEUE_RECOVERED,
        vendor=vendor,
        subject=f"queue:{queue.group_id}",
        idempotency_key=f"{vendor}:queue:{queue.group_id}:{state.episode}:recovered",
        occurred_at=now,
        line=queue.name,
        group_id=queue.group_id,
        text=f"{queue.name} is back to normal: {_facts(None, queue, seen)}",
        detail=detail,
    )


# -- text -----------------------------------------------------------------------------------


def format_duration(seconds: int) -> str:
    """``45s``, ``3m 10s``, ``1h 5m``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m {rest}s" if rest else f"{minutes}m"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60}m" if rest // 60 else f"{hours}h"


def _calls(count: int) -> str:
    return f"{count} call{'s' if count != 1 else ''}"


def _facts(rule: QueueRule | None, queue: QueueStatus, seen: _Observation) -> str:
    facts: list[str] = []
    if seen.calls_waiting is not None:
        limit = f" (limit {rule.calls_waiting})" if rule and rule.calls_waiting is not None else ""
        facts.append(f"{_calls(seen.calls_waiting)} waiting{limit}")
    if seen.longest_wait is not None and seen.longest_wait > 0:
        limit = (
            f" (limit {format_duration(rule.longest_wait_seconds)})"
            if rule and rule.longest_wait_seconds is not None
            else ""
        )
        facts.append(f"longest wait {format_duration(seen.longest_wait)}{limit}")
    if seen.agents_free is not None:
        free = seen.agents_free
        facts.append("no free agent" if free == 0 else f"{free} agent{'s' if free != 1 else ''} free")
    return ", ".join(facts) if facts else "no figures reported"


def _figures(queue: QueueStatus, seen: _Observation) -> dict[str, Any]:
    return {
        "calls_waiting": seen.calls_waiting,
        "longest_wait_seconds": seen.longest_wait,
        "agents_free": seen.agents_free,
        "agents_logged_in": queue.agents_logged_in,
    }


def _step(rule: QueueRule, wait: int | None) -> int | None:
    if wait is None:
        return None
    return wait // (rule.longest_wait_seconds or DEFAULT_WAIT_STEP_SECONDS)


def _k(value: int | None) -> str:
    return "-" if value is None else str(value)
