"""The Slack status modal of Set up: the emoji and text per phone activity, "on a call", people's defaults.

Activities are typed one per line (``lunch :sandwich: Out for lunch``), so a vendor's own activity can be
added beside the code's eight. Only lines that differ from the code's defaults are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.status_sync.mapping import DEFAULT_STATUSES, MAX_STATUS_TEXT
from bot.status_sync.prefs import SyncPrefs
from bot.status_sync.workspace_status import (
    ACTIVITY,
    DEFAULT_HUDDLE_ACTIVITY,
    MAX_ACTIVITIES,
    MAX_MIN_CALL_SECONDS,
    ActivityStatus,
    StatusSettings,
    valid_emoji,
)
from handlers.setup import state as read
from handlers.setup.meta import SetupMeta
from handlers.setup.views import context, input_block, modal, text_input
from handlers.slack_status_prefs import SWITCHES, checkboxes

CALLBACK = "setup_status_form"
ACTIVITIES_BLOCK = "status:activities"
CALL_BLOCK = "status:call"
MIN_CALL_BLOCK = "status:min_call_seconds"
DEFAULTS_BLOCK = "status:defaults"
HUDDLE_BLOCK = "status:huddle_activity"
#: Slack's plain_text_input limit; 20 lines of name, emoji and text fit.
ACTIVITIES_MAX_LENGTH = 3000
CALL_MAX_LENGTH = 1 + 100 + MAX_STATUS_TEXT


def _lines(status: StatusSettings) -> str:
    shown = {**{name: f"{e} {t}" for name, (e, t) in DEFAULT_STATUSES.items()}}
    shown.update({name: f"{entry.emoji} {entry.text}" for name, entry in status.activities.items()})
    return "\n".join(f"{name} {line}" for name, line in shown.items())


def status_modal(scope: str, status: StatusSettings) -> dict[str, Any]:
    """The form, filled with what the workspace shows now (defaults and its overrides)."""
    blocks = [
        context(
            "What a person's Slack status shows while phonebot sets it. People who connected their Slack status "
            "choose their own switches on their App Home; the defaults below apply until they do."
        ),
        text_input(
            ACTIVITIES_BLOCK,
            "Statuses, one per line: activity :emoji: text",
            optional=False,
            initial=_lines(status),
            hint=f"At most {MAX_ACTIVITIES} lines; text up to {MAX_STATUS_TEXT} characters.",
            max_length=ACTIVITIES_MAX_LENGTH,
        ),
        text_input(
            CALL_BLOCK,
            "On a call: :emoji: text",
            optional=False,
            initial=f"{status.call.emoji} {status.call.text}",
            max_length=CALL_MAX_LENGTH,
        ),
        text_input(
            MIN_CALL_BLOCK,
            "Show calls longer than (seconds)",
            optional=False,
            initial=str(status.min_call_seconds),
            max_length=4,
        ),
        text_input(
            HUDDLE_BLOCK,
            "A Slack huddle sets the phone to (activity)",
            optional=True,
            initial=status.huddle_activity,
            hint="For people who turned \u201cHuddles put my phone on DND\u201d on: dnd, or another activity "
            "of your phone system (like meeting). Empty: dnd.",
            max_length=32,
        ),
        input_block(
            DEFAULTS_BLOCK,
            "Defaults for people who never chose",
            checkboxes(scope, status.defaults, action_id="value"),
            optional=True,
        ),
    ]
    meta = SetupMeta(scope=scope, form="status").dump()
    return modal("Slack status", blocks, callback_id=CALLBACK, private_metadata=meta, submit="Save")


@dataclass(frozen=True)
class StatusSubmission:
    """The form read back: the settings to store, or problems by block id."""

    status: StatusSettings | None
    errors: dict[str, str]


def _emoji_and_text(raw: str) -> tuple[str, str] | str:
    """``:emoji: text`` as a pair, or what is wrong with it."""
    emoji, _, text = raw.strip().partition(" ")
    text = text.strip()
    if not valid_emoji(emoji):
        return f"{emoji[:40] or 'The emoji'} is not an emoji: write it as :name:."
    if not text:
        return "Add the text after the emoji."
    if len(text) > MAX_STATUS_TEXT:
        return f"A status text is at most {MAX_STATUS_TEXT} characters."
    return emoji, text


def read_status_form(scope: str, state: dict[str, Any]) -> StatusSubmission:
    """Validate a submitted form; the first problem of each field is reported on it."""
    errors: dict[str, str] = {}
    activities: dict[str, ActivityStatus] = {}
    lines = [line for line in (read.text(state, ACTIVITIES_BLOCK) or "").splitlines() if line.strip()]
    if len(lines) > MAX_ACTIVITIES:
        errors[ACTIVITIES_BLOCK] = f"At most {MAX_ACTIVITIES} activities."
    seen: set[str] = set()
    for number, line in enumerate(lines[:MAX_ACTIVITIES], start=1):
        name, _, rest = line.strip().partition(" ")
        name = name.lower()
        parsed = _emoji_and_text(rest)
        if not ACTIVITY.fullmatch(name):
            problem: str | None = f"Line {number}: start with the activity's name (like lunch)."
        elif name in seen:
            problem = f"Line {number}: {name} is there twice."
        elif isinstance(parsed, str):
            problem = f"Line {number}: {parsed}"
        else:
            problem = None
            seen.add(name)
            if DEFAULT_STATUSES.get(name) != parsed:
                activities[name] = ActivityStatus(emoji=parsed[0], text=parsed[1])
        if problem is not None:
            errors.setdefault(ACTIVITIES_BLOCK, problem[:150])
    call = _emoji_and_text(read.text(state, CALL_BLOCK) or "")
    if isinstance(call, str):
        errors[CALL_BLOCK] = call[:150]
    seconds = read.text(state, MIN_CALL_BLOCK) or ""
    if not seconds.isdigit() or int(seconds) > MAX_MIN_CALL_SECONDS:
        errors[MIN_CALL_BLOCK] = f"A whole number of seconds, at most {MAX_MIN_CALL_SECONDS}."
    huddle = (read.text(state, HUDDLE_BLOCK) or "").strip().lower() or DEFAULT_HUDDLE_ACTIVITY
    if not ACTIVITY.fullmatch(huddle) or huddle == "available":
        errors[HUDDLE_BLOCK] = "One activity name other than available (like dnd or meeting)."
    ticked = set(read.checked(state, DEFAULTS_BLOCK, limit=len(SWITCHES)))
    defaults = SyncPrefs(**{name: f"{scope}|{name}" in ticked for name, _, _ in SWITCHES})
    if errors or isinstance(call, str):
        return StatusSubmission(None, errors)
    try:
        status = StatusSettings(
            activities=activities,
            call=ActivityStatus(emoji=call[0], text=call[1]),
            min_call_seconds=int(seconds),
            huddle_activity=huddle,
            defaults=defaults,
        )
    except ValidationError:  # every bound is checked above; this is the model's last word
        return StatusSubmission(None, {ACTIVITIES_BLOCK: "Something here is past phonebot's bounds."})
    return StatusSubmission(status, {})
