"""Vendor text is data: no alert, digest, thread note or button reply lets an outside string become markup.

Every renderer is fed events whose every text field holds something Slack would otherwise read
as a mention, a link or an entity (``<!channel>``, ``<@U…>``, ``<https://evil|Call back>``…), as
a Tele2 ``contact_name``, a Relatel ``from_contact.name``, a Multisender reply or a transcript
would carry it. The rendered ``text`` and every mrkdwn string in the blocks must hold none live.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.events import AlertEvent, AlertKind
from adapters.models import Activity, Presence, QueueStatus
from bot.alerts.worker import _follow_up
from handlers.alert_view import AlertState, hearer, merge, render, render_digest, resolver, summary_line
from handlers.presence import _describe_state
from handlers.queue import format_queue

TZ = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0123|oncall>",
    "<@U0ALICE>",
    "<#C0GENERAL>",
    "<https://evil.example|Call back>",
    "<mailto:x@evil.example|mail>",
    "&lt;!channel&gt;",
]
LIVE = re.compile(r"<[!@#]|<(?:https?|mailto):", re.IGNORECASE)

hostile = st.sampled_from(HOSTILE) | st.builds(
    lambda a, b, c: f"{a}{b}{c}", st.text(max_size=10), st.sampled_from(HOSTILE), st.text(max_size=10)
)


def _mrkdwn(rendered: Any) -> list[str]:
    """Every string of a rendered message that Slack would read as mrkdwn."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key != "url":  # a button's link target is not mrkdwn (and is https-only)
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(rendered.blocks)
    return [rendered.text, *found]


def _events(text: str) -> list[tuple[AlertEvent, ...]]:
    base: dict[str, Any] = {"vendor": "tele2", "occurred_at": T0}
    names = {"caller_number": "+37060000001", "caller_name": text, "line": text, "group_id": text}
    lost = AlertEvent(kind=AlertKind.LOST_CALL_OPENED, subject="lost", idempotency_key="a", **base, **names)
    lost_done = AlertEvent(
        kind=AlertKind.LOST_CALL_RESOLVED,
        subject="lost",
        idempotency_key="b",
        resolved_by=text,
        **{**base, "occurred_at": T0 + timedelta(minutes=1)},
    )
    voicemail = AlertEvent(
        kind=AlertKind.VOICEMAIL_NEW,
        subject="vm",
        idempotency_key="c",
        mailbox=text,
        transcript=text,
        listen_url="javascript:alert(1)",
        **base,
        **names,
    )
    heard = AlertEvent(kind=AlertKind.VOICEMAIL_HEARD, subject="vm", idempotency_key="d", resolved_by=text, **base)
    queue = AlertEvent(
        kind=AlertKind.QUEUE_BREACHED, subject="q", idempotency_key="e", line=text, detail={"calls_waiting": 7}, **base
    )
    note = AlertEvent(kind=AlertKind.NOTIFICATION, subject="n", idempotency_key="f", detail={"title": text}, **base)
    reply = AlertEvent(
        kind=AlertKind.NOTIFICATION,
        subject="n",
        idempotency_key="g",
        text=text,
        detail={"entry": text, "entry_totals": {text: 3}},
        **base,
    )
    call = AlertEvent(kind=AlertKind.CALL_EVENT, subject="call", idempotency_key="h", text=text, **base, **names)
    return [(lost, lost_done), (voicemail, heard), (queue,), (note, reply), (call,)]


@settings(max_examples=60, deadline=None)
@given(hostile)
def test_no_renderer_lets_outside_text_become_markup(text: str) -> None:
    states: list[AlertState] = []
    for sequence in _events(text):
        state: AlertState | None = None
        for event in sequence:
            previous, state = state, merge(state, event)
            rendered = render(state, tz=TZ)
            strings = _mrkdwn(rendered)
            follow_up = _follow_up(previous, state, TZ)
            strings += [follow_up] if follow_up else []
            strings += [summary_line(state, TZ), resolver(state) or "", hearer(state) or ""]
            for string in strings:
                assert not LIVE.search(string), (event.kind, string)
            assert "javascript:" not in json.dumps(rendered.blocks)  # not-https links never become buttons
        assert state is not None
        states.append(state)
    digest = render_digest(":bell: *+5 more*", states, tz=TZ, digest_id="burst:C1:x")
    for string in _mrkdwn(digest):
        assert not LIVE.search(string), string


def test_phonebot_s_own_mentions_stay_mentions() -> None:
    state = AlertState(
        vendor="tele2", subject="s", family="lost_call", first_at=T0, last_at=T0, owner="U0BOB", resolved_by_user="U0AL"
    )
    assert resolver(state) == "<@U0AL>"
    assert "<@U0BOB> is on it" in json.dumps(render(state, tz=TZ).blocks)
    forged = state.model_copy(update={"owner": "!channel", "resolved_by_user": None, "resolved_by": "<!here>"})
    assert "<!channel>" not in json.dumps(render(forged, tz=TZ).blocks)
    assert resolver(forged) == "&lt;!here&gt;"


@settings(max_examples=40, deadline=None)
@given(hostile)
def test_command_replies_show_vendor_names_as_plain_text(text: str) -> None:
    queue = QueueStatus(group_id="1", name=text, calls_waiting=2, agents_logged_in=1, agents_free=0)
    presence = Presence(available=False, activity=Activity(id="x", name=text))
    for string in (format_queue(queue), _describe_state(presence, None), _describe_state(presence, text)):
        assert not LIVE.search(string), string
