"""Alert state folding and rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.events import AlertEvent, AlertKind
from handlers.alert_view import CLAIM_ACTION, RELEASE_ACTION, merge, render
from tests.fakes.slack_api import check_blocks

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VILNIUS = ZoneInfo("Europe/Vilnius")


def lost(kind: AlertKind, minutes: int, **extra: object) -> AlertEvent:
    fields: dict[str, object] = {
        "kind": kind,
        "vendor": "tele2",
        "subject": "lost:+37060000001:Support",
        "idempotency_key": f"k{minutes}",
        "occurred_at": T0 + timedelta(minutes=minutes),
        "caller_number": "+37060000001",
        "caller_name": "Jonas",
        "line": "Support",
    }
    fields.update(extra)
    return AlertEvent.model_validate(fields)


def _actions(blocks: list[dict[str, object]]) -> list[str]:
    for block in blocks:
        if block["type"] == "actions":
            return [element["action_id"] for element in block["elements"]]  # type: ignore[index,union-attr]
    return []


def test_repeat_attempts_fold_into_one_state() -> None:
    state = merge(None, lost(AlertKind.LOST_CALL_OPENED, 0))
    state = merge(state, lost(AlertKind.LOST_CALL_UPDATED, 5))
    assert state.attempts == 2 and state.last_at == T0 + timedelta(minutes=5)
    message = render(state, tz=VILNIUS)
    assert "Lost call from *Jonas (+37060000001)* on *Support*" in str(message.blocks)
    assert "2 attempts · last at 11:05" in str(message.blocks)
    assert _actions(message.blocks) == ["alert_callback", CLAIM_ACTION, "alert_resolve", "alert_snooze"]
    assert check_blocks(message.blocks) == []


def test_snooze_button_names_the_configured_duration() -> None:
    state = merge(None, lost(AlertKind.LOST_CALL_OPENED, 0))
    assert "Snooze 30 min" in str(render(state, tz=VILNIUS).blocks)
    assert "Snooze 1 h 30 min" in str(render(state, tz=VILNIUS, snooze_minutes=90).blocks)
    assert "Snooze 2 h" in str(render(state, tz=VILNIUS, snooze_minutes=120).blocks)
    assert "Snooze 6 s" in str(render(state, tz=VILNIUS, snooze_minutes=0.1).blocks)


def test_vendor_attempt_count_wins_and_resolution_removes_buttons() -> None:
    state = merge(None, lost(AlertKind.LOST_CALL_OPENED, 0, attempts=3))
    assert state.attempts == 3
    state = merge(state, lost(AlertKind.LOST_CALL_RESOLVED, 9, resolved_by="Ona"))
    message = render(state, tz=VILNIUS)
    assert state.status == "resolved" and _actions(message.blocks) == []
    assert "resolved by Ona at 11:09" in str(message.blocks)
    # They call again later: the same message reopens.
    state = merge(state, lost(AlertKind.LOST_CALL_UPDATED, 30))
    assert state.status == "open" and state.attempts == 4


def test_claimed_message_shows_the_owner_and_hides_claim() -> None:
    state = merge(None, lost(AlertKind.LOST_CALL_OPENED, 0)).model_copy(update={"owner": "U0BOB"})
    message = render(state, tz=VILNIUS)
    assert _actions(message.blocks) == ["alert_callback", RELEASE_ACTION, "alert_resolve", "alert_snooze"]
    assert "<@U0BOB> is on it" in str(message.blocks)


def test_voicemail_with_transcript_and_removal() -> None:
    event = AlertEvent(
        kind=AlertKind.VOICEMAIL_NEW,
        vendor="relatel",
        subject="vm:77",
        idempotency_key="vm:77",
        occurred_at=T0,
        caller_number="+4571999999",
        duration_seconds=42,
        mailbox="Support",
        transcript="Please call me back about the invoice",
        listen_url="https://example.com/vm/77.mp3",
    )
    state = merge(None, event)
    blocks = render(state, tz=VILNIUS).blocks
    assert "(42 s)" in str(blocks) and "> Please call me back" in str(blocks)
    assert _actions(blocks) == ["alert_callback", "alert_heard", "alert_listen"]
    removed = merge(state, event.model_copy(update={"kind": AlertKind.VOICEMAIL_REMOVED, "idempotency_key": "x"}))
    assert "deleted or heard elsewhere" in str(render(removed, tz=VILNIUS).blocks)


def test_queue_breach_and_recovery() -> None:
    breach = AlertEvent(
        kind=AlertKind.QUEUE_BREACHED,
        vendor="dstny",
        subject="queue:35",
        idempotency_key="q1",
        occurred_at=T0,
        line="Support",
        detail={"calls_waiting": 4, "longest_wait_seconds": 180, "agents_free": 0},
    )
    state = merge(None, breach)
    assert "4 waiting · longest wait 180 s · 0 agents free" in str(render(state, tz=VILNIUS).blocks)
    recovered = merge(
        state, breach.model_copy(update={"kind": AlertKind.QUEUE_RECOVERED, "detail": {"calls_waiting": 0}})
    )
    assert "back to normal" in render(recovered, tz=VILNIUS).text


def test_voicemail_heard_elsewhere_shows_who_and_drops_the_button() -> None:
    event = AlertEvent(
        kind=AlertKind.VOICEMAIL_NEW,
        vendor="relatel",
        subject="voicemail:9",
        idempotency_key="v9",
        occurred_at=T0,
        caller_number="+4571999999",
    )
    state = merge(None, event)
    heard = merge(state, event.model_copy(update={"kind": AlertKind.VOICEMAIL_HEARD, "idempotency_key": "h9"}))
    blocks = str(render(heard, tz=VILNIUS).blocks)
    assert "heard by someone outside Slack" in blocks
    assert _actions(render(heard, tz=VILNIUS).blocks) == ["alert_callback"]
    named = merge(state, event.model_copy(update={"kind": AlertKind.VOICEMAIL_HEARD, "resolved_by": "Bob Berg"}))
    assert "heard by Bob Berg" in str(render(named, tz=VILNIUS).blocks)


def test_a_late_event_never_moves_an_alert_backwards() -> None:
    """Issue 9 point 16: LostCallerAdded (attempts 1) delivered after LostCallerUpdated (attempts 3) keeps 3."""
    updated = lost(AlertKind.LOST_CALL_UPDATED, 5, attempts=3)
    late_added = lost(AlertKind.LOST_CALL_OPENED, 0, attempts=1)
    state = merge(merge(None, updated), late_added)
    assert state.attempts == 3
    assert state.last_at == T0 + timedelta(minutes=5)

    resolved = merge(state, lost(AlertKind.LOST_CALL_RESOLVED, 6))
    assert merge(resolved, lost(AlertKind.LOST_CALL_OPENED, 1, attempts=1)).status == "resolved"  # late, stays done
    again = merge(resolved, lost(AlertKind.LOST_CALL_OPENED, 9, attempts=1))
    assert (again.status, again.attempts) == ("open", 1)  # called again later: a fresh count


def test_a_close_told_twice_keeps_the_first_time() -> None:
    """A lost call resolved by webhook and again by the Tele2 lost-call list: one resolution, no edit."""
    at = datetime(2026, 10, 6, 9, 0, tzinfo=UTC)

    def lost(kind: AlertKind, key: str, when: datetime) -> AlertEvent:
        return AlertEvent(
            kind=kind, vendor="tele2", subject="lost:+37069912345:+37052000100", idempotency_key=key, occurred_at=when
        )

    opened = merge(None, lost(AlertKind.LOST_CALL_OPENED, "a", at))
    resolved = merge(opened, lost(AlertKind.LOST_CALL_RESOLVED, "webhook", at + timedelta(minutes=1)))
    again = merge(resolved, lost(AlertKind.LOST_CALL_RESOLVED, "poll", at + timedelta(minutes=2)))
    assert again == resolved and again.resolved_at == at + timedelta(minutes=1)
    reopened = merge(again, lost(AlertKind.LOST_CALL_OPENED, "b", at + timedelta(minutes=5)))
    assert reopened.status == "open"
    closed = merge(reopened, lost(AlertKind.LOST_CALL_RESOLVED, "c", at + timedelta(minutes=6)))
    assert closed.status == "resolved" and closed.resolved_at == at + timedelta(minutes=6)
