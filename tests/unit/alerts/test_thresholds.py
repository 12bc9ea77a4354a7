"""Queue thresholds: breach after a minimum duration, updates while breached, recovery with hysteresis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.events import AlertEvent, AlertKind
from adapters.models import QueueStatus
from bot.alerts.thresholds import evaluate, format_duration, rule_for, thresholds_for
from bot.config import QueueThreshold

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def support(
    calls: int | None = 0, wait: int | None = None, free: int | None = 2, logged_in: int | None = 3
) -> QueueStatus:
    return QueueStatus(
        group_id="35",
        name="Support",
        calls_waiting=calls,
        longest_wait_seconds=wait,
        agents_free=free,
        agents_logged_in=logged_in,
    )


def sales(calls: int | None = 0) -> QueueStatus:
    return QueueStatus(group_id="36", name="Sales", calls_waiting=calls, agents_free=1, agents_logged_in=1)


class Watch:
    """Feeds snapshots at ``T0 + seconds``; the state goes through JSON each time, as in the store."""

    def __init__(self, *thresholds: QueueThreshold, vendor: str = "dstny") -> None:
        self.thresholds = list(thresholds)
        self.vendor = vendor
        self.state: dict[str, Any] | None = None
        self.sent: list[AlertEvent] = []

    def at(self, seconds: float, *queues: QueueStatus) -> list[AlertEvent]:
        events, state = evaluate(
            self.thresholds, self.vendor, list(queues), now=T0 + timedelta(seconds=seconds), state=self.state
        )
        self.state = json.loads(json.dumps(state))
        self.sent += events
        return events


def limit(calls: int | None = 5, *, hold: int = 30, group: str = "Support", **extra: Any) -> QueueThreshold:
    return QueueThreshold(group=group, calls_waiting=calls, min_duration_seconds=hold, **extra)


def kinds(events: list[AlertEvent]) -> list[AlertKind]:
    return [e.kind for e in events]


def test_breach_alerts_only_after_the_minimum_duration() -> None:
    watch = Watch(limit(5, hold=30))
    assert watch.at(0, support(calls=7, wait=190, free=0)) == []
    assert watch.at(20, support(calls=7, wait=190, free=0)) == []
    [event] = watch.at(30, support(calls=7, wait=190, free=0))
    assert event.kind is AlertKind.QUEUE_BREACHED
    assert (event.vendor, event.subject, event.line, event.group_id) == ("dstny", "queue:35", "Support", "35")
    assert event.occurred_at == T0 + timedelta(seconds=30)
    assert event.text == "Support: 7 calls waiting (limit 5), longest wait 3m 10s, no free agent"
    assert event.detail == {
        "calls_waiting": 7,
        "longest_wait_seconds": 190,
        "agents_free": 0,
        "agents_logged_in": 3,
        "breached": ["7 calls waiting (limit 5)"],
    }
    assert event.idempotency_key.startswith(f"dstny:queue:35:{int(T0.timestamp())}:breached:")


def test_zero_minimum_duration_alerts_at_once() -> None:
    watch = Watch(limit(5, hold=0))
    assert kinds(watch.at(0, support(calls=5))) == [AlertKind.QUEUE_BREACHED]


def test_brief_spikes_do_not_alert() -> None:
    watch = Watch(limit(5, hold=30))
    assert watch.at(0, support(calls=7)) == []
    assert watch.at(10, support(calls=1)) == []  # gone again: the wait restarts
    assert watch.at(20, support(calls=7)) == []
    assert watch.at(40, support(calls=4)) == []  # below the limit, even if inside the band
    assert watch.at(50, support(calls=9)) == []
    assert watch.at(70, support(calls=9)) == []
    assert kinds(watch.at(80, support(calls=9))) == [AlertKind.QUEUE_BREACHED]  # held 30 s since t=50


def test_open_alert_is_kept_current_without_spam() -> None:
    watch = Watch(limit(5, hold=0, longest_wait_seconds=120))
    [first] = watch.at(0, support(calls=6, wait=130, free=1))
    assert watch.at(30, support(calls=6, wait=150, free=1)) == []  # same count, same wait step
    [more] = watch.at(60, support(calls=8, wait=170, free=1))
    [no_agent] = watch.at(90, support(calls=8, wait=200, free=0))
    [longer] = watch.at(120, support(calls=8, wait=245, free=0))  # 245 s is the next 120 s step
    assert watch.at(150, support(calls=8, wait=260, free=0)) == []
    updates = [first, more, no_agent, longer]
    assert {e.kind for e in updates} == {AlertKind.QUEUE_BREACHED}
    assert {e.subject for e in updates} == {"queue:35"}
    assert len({e.idempotency_key for e in updates}) == 4
    assert longer.detail["breached"] == ["8 calls waiting (limit 5)", "longest wait 4m 5s (limit 2m)"]
    assert longer.text == "Support: 8 calls waiting (limit 5), longest wait 4m 5s (limit 2m), no free agent"


def test_recovery_needs_a_margin_and_the_minimum_duration() -> None:
    watch = Watch(limit(5, hold=30))
    watch.at(0, support(calls=7))
    assert kinds(watch.at(30, support(calls=7))) == [AlertKind.QUEUE_BREACHED]
    # A limit of 5 recovers below max(1, floor(0.8 * 5)) = 4: four waiting is still open.
    [update] = watch.at(60, support(calls=4))
    assert update.kind is AlertKind.QUEUE_BREACHED and update.detail["breached"] == []
    assert watch.at(200, support(calls=4)) == []
    assert watch.at(210, support(calls=3)) == []  # recovering; must hold 30 s
    assert watch.at(225, support(calls=4)) == []  # back in the band: recovery cancelled
    assert watch.at(230, support(calls=2)) == []
    assert watch.at(250, support(calls=2)) == []
    [recovered] = watch.at(260, support(calls=2))
    assert recovered.kind is AlertKind.QUEUE_RECOVERED
    assert recovered.subject == "queue:35"
    assert recovered.idempotency_key == f"dstny:queue:35:{int(T0.timestamp())}:recovered"
    assert recovered.text == "Support is back to normal: 2 calls waiting, 2 agents free"
    assert recovered.detail["breached"] == [] and recovered.detail["calls_waiting"] == 2
    assert watch.state == {"version": 1, "queues": {}}


def test_longest_wait_recovers_below_80_percent() -> None:
    watch = Watch(QueueThreshold(group="*", longest_wait_seconds=100, min_duration_seconds=0))
    assert kinds(watch.at(0, support(calls=1, wait=100))) == [AlertKind.QUEUE_BREACHED]
    assert watch.at(10, support(calls=1, wait=110)) == []  # same count, same 100 s step
    [band] = watch.at(15, support(calls=1, wait=85))  # below the limit, not yet recovered
    assert band.kind is AlertKind.QUEUE_BREACHED and band.detail["breached"] == []
    assert kinds(watch.at(20, support(calls=1, wait=79))) == [AlertKind.QUEUE_RECOVERED]


def test_nobody_waiting_means_no_wait_whatever_the_vendor_reports() -> None:
    watch = Watch(QueueThreshold(group="*", longest_wait_seconds=60, min_duration_seconds=0))
    assert watch.at(0, support(calls=0, wait=300)) == []


def test_no_free_agent() -> None:
    watch = Watch(QueueThreshold(group="*", no_free_agent=True, min_duration_seconds=0))
    [event] = watch.at(0, support(calls=1, free=0))
    assert event.detail["breached"] == ["no free agent"]
    assert kinds(watch.at(10, support(calls=1, free=1))) == [AlertKind.QUEUE_RECOVERED]
    # Nobody logged in and no free-agent count: no free agent either.
    [closed_queue] = watch.at(20, support(calls=0, free=None, logged_in=0))
    assert closed_queue.kind is AlertKind.QUEUE_BREACHED and closed_queue.detail["agents_free"] == 0


def test_a_new_breach_after_recovery_gets_new_keys() -> None:
    watch = Watch(limit(5, hold=0))
    [first] = watch.at(0, support(calls=6))
    [recovered] = watch.at(10, support(calls=0))
    [again] = watch.at(20, support(calls=6))
    assert again.kind is AlertKind.QUEUE_BREACHED and again.idempotency_key != first.idempotency_key
    assert len({first.idempotency_key, recovered.idempotency_key, again.idempotency_key}) == 3


def test_star_matches_every_queue_and_a_named_threshold_overrides_it() -> None:
    watch = Watch(
        QueueThreshold(group="*", calls_waiting=10, min_duration_seconds=0),
        QueueThreshold(group="support", calls_waiting=3, min_duration_seconds=0),  # by name, any case
    )
    events = watch.at(0, support(calls=4), sales(calls=4))
    assert [e.group_id for e in events] == ["35"]
    events = watch.at(10, support(calls=4), sales(calls=11))
    assert [e.group_id for e in events] == ["36"]


def test_group_matches_by_id_and_equally_specific_thresholds_merge() -> None:
    thresholds = [
        QueueThreshold(group="35", calls_waiting=8, min_duration_seconds=60),
        QueueThreshold(group="Support", calls_waiting=5, no_free_agent=True, min_duration_seconds=20),
        QueueThreshold(group="*", calls_waiting=1),
    ]
    rule = rule_for(thresholds, "dstny", support())
    assert rule is not None
    assert (rule.calls_waiting, rule.no_free_agent, rule.min_duration_seconds) == (5, True, 20)
    assert rule_for([QueueThreshold(group="Billing", calls_waiting=1)], "dstny", support()) is None


def test_vendor_filter() -> None:
    only_relatel = QueueThreshold(group="*", vendor="relatel", calls_waiting=1, min_duration_seconds=0)
    assert Watch(only_relatel, vendor="dstny").at(0, support(calls=9)) == []
    assert kinds(Watch(only_relatel, vendor="relatel").at(0, support(calls=9))) == [AlertKind.QUEUE_BREACHED]
    assert thresholds_for([only_relatel], "Relatel") == [only_relatel]
    assert thresholds_for([only_relatel], "dstny") == []
    # A vendor-specific entry beats a general one for the same group.
    general = QueueThreshold(group="Support", calls_waiting=1, min_duration_seconds=0)
    specific = QueueThreshold(group="Support", vendor="dstny", calls_waiting=9, min_duration_seconds=0)
    assert Watch(general, specific).at(0, support(calls=5)) == []


def test_disappearing_queue_is_unknown_not_resolved() -> None:
    watch = Watch(limit(5, hold=0))
    watch.at(0, support(calls=7), sales())
    breached_state = watch.state
    assert watch.at(10, sales()) == []  # Support is gone from the snapshot
    assert watch.at(20) == []
    assert watch.state == breached_state
    assert watch.at(30, support(calls=None, free=None, logged_in=None)) == []  # present, but no figures
    assert watch.state == breached_state
    assert kinds(watch.at(40, support(calls=0))) == [AlertKind.QUEUE_RECOVERED]


def test_unknown_figures_do_not_start_or_finish_a_breach() -> None:
    watch = Watch(limit(5, hold=30))
    watch.at(0, support(calls=7))
    assert watch.at(10, support(calls=None)) == []
    pending = watch.state
    assert pending is not None and pending["queues"]["35"]["status"] == "pending"


def test_removed_threshold_closes_the_open_alert() -> None:
    watch = Watch(limit(5, hold=0))
    watch.at(0, support(calls=7))
    watch.thresholds = []
    [closed] = watch.at(10, support(calls=7))
    assert closed.kind is AlertKind.QUEUE_RECOVERED and closed.detail["reason"] == "no threshold applies any more"
    assert watch.state == {"version": 1, "queues": {}}


def test_state_round_trips_through_json_and_survives_garbage() -> None:
    watch = Watch(limit(5, hold=30))
    watch.at(0, support(calls=7))
    assert watch.state is not None
    text = json.dumps(watch.state)
    restarted = Watch(limit(5, hold=30))
    restarted.state = json.loads(text)
    assert kinds(restarted.at(30, support(calls=7))) == [AlertKind.QUEUE_BREACHED]  # the wait survived
    # Re-evaluating from the same state (a crash before it was saved) repeats the same keys.
    again, _ = evaluate(
        restarted.thresholds, "dstny", [support(calls=7)], now=T0 + timedelta(seconds=31), state=json.loads(text)
    )
    assert [e.idempotency_key for e in again] == [restarted.sent[0].idempotency_key]
    events, state = evaluate([limit(5, hold=0)], "dstny", [support(calls=7)], now=T0, state={"queues": "garbage"})
    assert kinds(events) == [AlertKind.QUEUE_BREACHED] and state["queues"]["35"]["status"] == "breached"


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 45, 60, 190, 3600, 3900)] == ["0s", "45s", "1m", "3m 10s", "1h", "1h 5m"]
