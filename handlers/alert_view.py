"""Moved: alert state lives in :mod:`bot.alerts.state`, rendering in :mod:`bot.alerts.view`.

Kept as a re-export so older imports keep working; new code imports from ``bot.alerts``.
"""

from bot.alerts.state import ENTRY_LINES, ENTRY_TOTALS, AlertState, merge
from bot.alerts.view import (
    CALLBACK_ACTION,
    CLAIM_ACTION,
    DIGEST_LINES,
    HEARD_ACTION,
    RELEASE_ACTION,
    RESOLVE_ACTION,
    SHOW_ALL_ACTION,
    SNOOZABLE,
    SNOOZE_ACTION,
    RenderedMessage,
    button_value,
    count_phrase,
    duration_text,
    hearer,
    render,
    render_digest,
    resolver,
    shown,
    summary_line,
)

__all__ = [
    "CALLBACK_ACTION",
    "CLAIM_ACTION",
    "DIGEST_LINES",
    "ENTRY_LINES",
    "ENTRY_TOTALS",
    "HEARD_ACTION",
    "RELEASE_ACTION",
    "RESOLVE_ACTION",
    "SHOW_ALL_ACTION",
    "SNOOZABLE",
    "SNOOZE_ACTION",
    "AlertState",
    "RenderedMessage",
    "button_value",
    "count_phrase",
    "duration_text",
    "hearer",
    "merge",
    "render",
    "render_digest",
    "resolver",
    "shown",
    "summary_line",
]
