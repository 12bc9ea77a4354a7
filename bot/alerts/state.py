"""The state accumulated per alert subject, and how each new event folds into it.

``merge`` folds each new event into the subject's state (attempts, last attempt time,
resolved/removed, owner), so a repeat call edits one message instead of posting another.
Rendering lives in :mod:`bot.alerts.view`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from adapters.events import AlertEvent, AlertKind
from bot.config import AlertFamily
from bot.routing import family_of

#: Key of ``AlertEvent.detail`` under which the worker hands ``merge`` a list's exact totals (``bot.alerts.tally``).
ENTRY_TOTALS = "entry_totals"
#: How many lines of a notification's list a message keeps (the newest; totals count them all).
ENTRY_LINES = 30

log = logging.getLogger(__name__)

_CLOSING: dict[AlertKind, Literal["resolved", "removed"]] = {
    AlertKind.LOST_CALL_RESOLVED: "resolved",
    AlertKind.VOICEMAIL_REMOVED: "removed",
    AlertKind.QUEUE_RECOVERED: "resolved",
}


class AlertState(BaseModel):
    """Everything one alert message shows."""

    vendor: str
    subject: str
    family: AlertFamily
    status: Literal["open", "resolved", "removed"] = "open"
    caller_number: str | None = None
    caller_name: str | None = None
    line: str | None = None
    group_id: str | None = None
    attempts: int = 0
    first_at: datetime
    last_at: datetime
    duration_seconds: int | None = None
    mailbox: str | None = None
    transcript: str | None = None
    listen_url: str | None = None
    text: str | None = None
    #: The most recent lines under a notification's headline (at most ``ENTRY_LINES``, newest last), keyed by
    #: the event's ``detail["entry"]`` (one per receiver).
    entries: dict[str, str] = {}
    #: Every entry counted once in its latest ``detail["entry_state"]`` ("accepted": 3000), however many there are.
    entry_totals: dict[str, int] = {}
    owner: str | None = None  # Slack user id that claimed it
    resolved_by: str | None = None  # the vendor's name for who resolved it (outside text)
    resolved_by_user: str | None = None  # the Slack user id that resolved it in Slack
    resolved_at: datetime | None = None
    heard_by: str | None = None  # the vendor's name for who listened (outside text)
    heard_by_user: str | None = None  # the Slack user id that marked it heard
    figures: dict[str, Any] = {}
    detail: dict[str, Any] = {}  # vendor references (call-log item id, voicemail id) for the buttons


def merge(state: AlertState | None, event: AlertEvent) -> AlertState:
    """Fold ``event`` into the subject's state (pure; the caller persists it)."""
    if state is None:
        state = AlertState(
            vendor=event.vendor,
            subject=event.subject,
            family=family_of(event.kind),
            first_at=event.occurred_at,
            last_at=event.occurred_at,
        )
    changes: dict[str, Any] = {}
    for name in ("caller_number", "caller_name", "line", "group_id", "duration_seconds", "mailbox", "transcript"):
        value = getattr(event, name)
        if value is not None:
            changes[name] = value
    if event.listen_url is not None:
        if urlsplit(event.listen_url).scheme == "https":
            changes["listen_url"] = event.listen_url
        else:  # javascript:, data:, plain http: never become a button
            log.warning("%s sent a recording link that is not https; it is not shown", event.vendor)
    if event.text is not None:
        entry = event.detail.get("entry")
        if isinstance(entry, str) and entry:  # a line of the list (a newer fact replaces its line)
            changes["entries"] = _recent_entries(state.entries, entry, event.text)
            totals = event.detail.get(ENTRY_TOTALS)
            if isinstance(totals, dict):
                changes["entry_totals"] = {str(name): int(count) for name, count in totals.items()}
        else:
            changes["text"] = event.text
    if event.detail:
        changes["detail"] = {**state.detail, **{k: v for k, v in event.detail.items() if k != ENTRY_TOTALS}}
    if event.kind in (AlertKind.LOST_CALL_OPENED, AlertKind.LOST_CALL_UPDATED):
        called_again = state.status != "open" and event.occurred_at > (state.resolved_at or state.last_at)
        if event.attempts is None:
            changes["attempts"] = state.attempts + 1
        elif called_again:
            changes["attempts"] = event.attempts  # a new round of misses counts afresh
        else:
            # Vendors deliver out of order: a late "added" (attempts 1) after an "updated" (attempts 3)
            # must not move the alert backwards.
            changes["attempts"] = max(state.attempts, event.attempts)
        changes["last_at"] = max(state.last_at, event.occurred_at)
        if called_again:
            changes.update(status="open", resolved_by=None, resolved_by_user=None, resolved_at=None)
    if event.kind == AlertKind.VOICEMAIL_HEARD and not (state.heard_by or state.heard_by_user):
        changes["heard_by"] = event.resolved_by or "someone outside Slack"
    if event.kind == AlertKind.QUEUE_BREACHED:
        changes.update(status="open", figures=dict(event.detail), last_at=event.occurred_at)
    if event.kind in _CLOSING:
        closing = _CLOSING[event.kind]
        if state.status != closing:
            changes.update(status=closing, resolved_at=event.occurred_at)
            if event.resolved_by:
                changes["resolved_by"] = event.resolved_by
        elif event.resolved_by and not (state.resolved_by or state.resolved_by_user):
            changes["resolved_by"] = event.resolved_by
        # else: the same close told again (a webhook and a poll both saw it): the first one stands
        if event.kind == AlertKind.QUEUE_RECOVERED:
            changes["figures"] = dict(event.detail)
    return state.model_copy(update=changes)


def _recent_entries(entries: dict[str, str], entry: str, text: str) -> dict[str, str]:
    """``entries`` with ``entry``'s line (re)placed last, trimmed to the ``ENTRY_LINES`` most recent."""
    kept = {key: line for key, line in entries.items() if key != entry}
    kept[entry] = text
    return dict(list(kept.items())[-ENTRY_LINES:])
