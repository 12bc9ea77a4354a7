"""Whatever a vendor sends, subjects and keys stay short enough for Slack and Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from adapters.events import MAX_ID_LENGTH, AlertEvent, AlertKind, bounded_id
from adapters.tele2.webhooks import parse_webhook
from bot.alerts.queue import AlertKeys, subject_key
from handlers.reply import Button, Reply


def test_short_ids_are_kept_and_long_ones_hashed_stably() -> None:
    assert bounded_id("lost:+4520000001:+4570000001") == "lost:+4520000001:+4570000001"
    long_a, long_b = "lost:" + "9" * 2100, "lost:" + "9" * 2099 + "8"
    bounded = bounded_id(long_a)
    assert len(bounded) == MAX_ID_LENGTH and bounded.startswith("lost:999")
    assert bounded_id(long_a) == bounded and bounded_id(bounded) == bounded  # deterministic, idempotent
    assert bounded_id(long_b) != bounded  # same prefix, different id
    assert len(bounded_id("x" * 1000, 255)) == 255


def test_an_event_bounds_its_subject_and_idempotency_key() -> None:
    event = AlertEvent(
        kind=AlertKind.NOTIFICATION,
        vendor="sim",
        subject="s" * 5000,
        idempotency_key="k" * 5000,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert len(event.subject) == MAX_ID_LENGTH and len(event.idempotency_key) == MAX_ID_LENGTH
    assert AlertEvent.model_validate_json(event.model_dump_json()) == event  # unchanged after a round trip
    assert len(subject_key("sim", "s" * 5000)) <= MAX_ID_LENGTH + len("sim|")
    assert len(AlertKeys().dedupe("k" * 5000)) <= MAX_ID_LENGTH + 40


def test_a_tele2_destination_of_2100_characters_gives_a_bounded_subject() -> None:
    body = {
        "type": "webhook",
        "version": "2",
        "eventType": "LostCallerAdded",
        "data": {
            "callerid": "+37069912345",
            "destination": "9" * 2100,
            "attempts": 1,
            "last_contact": "2026-01-01T10:00:00",
        },
    }
    [event] = parse_webhook(
        json.dumps(body).encode(),
        vendor="tele2",
        display_name="Tele2",
        region="LT",
        zone=ZoneInfo("Europe/Vilnius"),
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        event="LostCallerAdded",
    )
    assert len(event.subject) <= MAX_ID_LENGTH and len(event.idempotency_key) <= MAX_ID_LENGTH


def test_reply_buttons_built_from_vendor_data_stay_within_slacks_limits() -> None:
    button = Button(label="x" * 500, action_id="call_pick:" + "1" * 400, value="v" * 3000)
    reply = Reply(text="Pick one", buttons=[button])
    [element] = reply.to_slack()["blocks"][1]["elements"]
    assert len(element["action_id"]) <= 255 and element["action_id"].startswith("call_pick:")
    assert len(element["value"]) <= 2000
