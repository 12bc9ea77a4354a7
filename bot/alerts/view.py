"""What an alert message shows: an alert's state (:mod:`bot.alerts.state`) rendered as Block Kit.

``render`` turns the state into text + blocks with the buttons that make sense for it; every
outside string is escaped first (:func:`shown`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.alerts.state import ENTRY_LINES, AlertState
from bot.config import AlertFamily
from bot.mrkdwn import escape, mention

CALLBACK_ACTION = "alert_callback"
CLAIM_ACTION = "alert_claim"
#: Un-claims a lost call (the claimer or a phonebot admin may), so someone else can take it.
RELEASE_ACTION = "alert_release"
RESOLVE_ACTION = "alert_resolve"
HEARD_ACTION = "alert_heard"
SNOOZE_ACTION = "alert_snooze"
#: The digest's **Show all** button: opens every member, newest first, each with Call back (``handlers.digest_modal``).
SHOW_ALL_ACTION = "alert_digest_show_all"

#: AlertState fields holding text from outside phonebot (vendors, callers), escaped by :func:`shown`.
_OUTSIDE_TEXT = ("caller_number", "caller_name", "line", "group_id", "mailbox", "transcript", "text")


@dataclass(frozen=True)
class RenderedMessage:
    """Text (notification fallback) and blocks of one alert message."""

    text: str
    blocks: list[dict[str, Any]]


#: Alerts that carry a Snooze button (it holds back the channel's new alerts for a while).
SNOOZABLE: frozenset[AlertFamily] = frozenset({"lost_call", "queue"})


def resolver(state: AlertState) -> str | None:
    """Who resolved the alert, as safe mrkdwn: the Slack user, else the vendor's name for them."""
    if state.resolved_by_user:
        return mention(state.resolved_by_user)
    return escape(state.resolved_by) if state.resolved_by else None


def hearer(state: AlertState) -> str | None:
    """Who listened to the voicemail, as safe mrkdwn (see :func:`resolver`)."""
    if state.heard_by_user:
        return mention(state.heard_by_user)
    return escape(state.heard_by) if state.heard_by else None


def shown(state: AlertState) -> AlertState:
    """The state as a message may show it: every outside string escaped for mrkdwn.

    Vendor text (names, lines, transcripts, notification lines) is data: a contact called
    ``<!channel>`` must not ping a channel, nor ``<https://evil|Call back>`` plant a link. Only
    phonebot's own Slack user ids become mentions (:func:`mention`). Buttons keep reading the raw
    state (their values are JSON, not mrkdwn).
    """
    escaped: dict[str, Any] = {
        name: escape(value) for name in _OUTSIDE_TEXT if isinstance(value := getattr(state, name), str)
    }
    escaped["entries"] = {key: escape(line) for key, line in state.entries.items()}
    escaped["entry_totals"] = {escape(name): count for name, count in state.entry_totals.items()}
    escaped["resolved_by"], escaped["resolved_by_user"] = resolver(state), None
    escaped["heard_by"], escaped["heard_by_user"] = hearer(state), None
    title = state.detail.get("title")
    if isinstance(title, str):
        escaped["detail"] = {**state.detail, "title": escape(title)}
    return state.model_copy(update=escaped)


def render(state: AlertState, *, tz: ZoneInfo, snooze_minutes: float = 30, workspace: str = "") -> RenderedMessage:
    """Block Kit for the state, built from slack_sdk models (validated on ``to_dict``).

    ``workspace`` (the scope of the workspace whose pipeline posts it) goes into every button's value, so a
    click from another workspace (a shared channel) is refused rather than looked up there.
    """
    state = shown(state)
    builder = {"lost_call": _lost_call, "voicemail": _voicemail, "queue": _queue}.get(state.family, _notification)
    text, lines, buttons = builder(state, tz)
    if state.family in SNOOZABLE:
        buttons += _buttons(state, [(SNOOZE_ACTION, f"Snooze {duration_text(snooze_minutes)}", None)])
    if workspace:
        buttons = [_in_workspace(button, workspace) for button in buttons]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000]))]
    if state.status == "open" and buttons:
        blocks.append(ActionsBlock(block_id=f"alert:{state.status}", elements=buttons))
    footer = _footer(state, tz)
    if footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return RenderedMessage(text=text, blocks=[block.to_dict() for block in blocks])


def _who(state: AlertState) -> str:
    number = state.caller_number or "an unknown number"
    return f"{state.caller_name} ({number})" if state.caller_name else number


def _lost_call(state: AlertState, tz: ZoneInfo) -> tuple[str, list[str], list[ButtonElement]]:
    line = f" on *{state.line}*" if state.line else ""
    attempts = f"{state.attempts} attempt{'s' if state.attempts != 1 else ''}"
    icon = ":white_check_mark:" if state.status == "resolved" else ":telephone_receiver:"
    title = f"{icon} Lost call from *{_who(state)}*{line}"
    if state.status == "resolved":
        title = f"~Lost call~ from *{_who(state)}*{line} — resolved"
    lines = [title, f"{attempts} · last at {_time(state.last_at, tz)}"]
    claim = (RELEASE_ACTION, "Release", None) if state.owner else (CLAIM_ACTION, "I'll take it", None)
    buttons = _buttons(state, [(CALLBACK_ACTION, "Call back", "primary"), claim, (RESOLVE_ACTION, "Resolve", None)])
    return f"Lost call from {_who(state)}{' on ' + state.line if state.line else ''}", lines, buttons


def _voicemail(state: AlertState, tz: ZoneInfo) -> tuple[str, list[str], list[ButtonElement]]:
    box = f" in *{state.mailbox}*" if state.mailbox else ""
    length = f" ({state.duration_seconds} s)" if state.duration_seconds is not None else ""
    title = f":incoming_envelope: New voicemail from *{_who(state)}*{box}{length}"
    if state.status == "removed":
        title = f"~Voicemail~ from *{_who(state)}*{box} — deleted or heard elsewhere"
    lines = [title, f"left at {_time(state.first_at, tz)}"]
    if state.transcript:
        lines.append(f"> {state.transcript[:1500]}")
    specs = [(CALLBACK_ACTION, "Call back", "primary"), (HEARD_ACTION, "Mark heard", None)]
    buttons = _buttons(state, specs if not state.heard_by else specs[:1])
    if state.listen_url:
        buttons.append(ButtonElement(text="Listen", action_id="alert_listen", url=state.listen_url[:3000]))
    return f"New voicemail from {_who(state)}", lines, buttons


def _queue(state: AlertState, tz: ZoneInfo) -> tuple[str, list[str], list[ButtonElement]]:
    name = state.line or state.group_id or "a queue"
    figures = state.figures
    facts = []
    if figures.get("calls_waiting") is not None:
        facts.append(f"{figures['calls_waiting']} waiting")
    if figures.get("longest_wait_seconds") is not None:
        facts.append(f"longest wait {figures['longest_wait_seconds']} s")
    if figures.get("agents_free") is not None:
        facts.append(f"{figures['agents_free']} agents free")
    summary = " · ".join(facts)
    if state.status == "resolved":
        lines = [f":large_green_circle: Queue *{name}* is back to normal", summary]
    else:
        lines = [f":rotating_light: Queue *{name}* needs attention since {_time(state.first_at, tz)}", summary]
    return (
        f"Queue {name} needs attention" if state.status == "open" else f"Queue {name} is back to normal",
        lines,
        [],
    )


def duration_text(minutes: float) -> str:
    """``30 min``, ``2 h``, ``1 h 30 min`` or, under a minute, ``20 s``."""
    if minutes < 1:
        return f"{round(minutes * 60)} s"
    hours, rest = divmod(round(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def _notification(state: AlertState, tz: ZoneInfo) -> tuple[str, list[str], list[ButtonElement]]:
    text = _headline(state)
    entries = list(state.entries.values())[-ENTRY_LINES:]
    lines = [text]
    total = max(sum(state.entry_totals.values()), len(state.entries))
    if total > len(entries):  # not every line is shown: say how many there are, per state
        if state.entry_totals:
            ranked = sorted(state.entry_totals.items(), key=lambda item: (-item[1], item[0]))
            lines.append(" · ".join(f"*{count:,}* {name}" for name, count in ranked))
        lines.append(f"…{total - len(entries):,} earlier")
    lines += [f"• {line}" for line in entries]
    return text, lines, []


def _headline(state: AlertState) -> str:
    """A notification's headline: its latest text, else the title its vendor gave the subject."""
    title = state.detail.get("title")
    return state.text or (title if isinstance(title, str) and title else f"Event from {state.vendor}")


def button_value(state: AlertState, workspace: str = "") -> str:
    """What an alert button carries to name its subject, and the workspace it is in when that is one of several
    (``handlers.alert_actions`` reads it back)."""
    value = {"vendor": state.vendor, "subject": state.subject}
    return json.dumps({**value, "w": workspace} if workspace else value)


def _in_workspace(button: ButtonElement, workspace: str) -> ButtonElement:
    """``button`` naming ``workspace`` too, when it carries a subject (a URL button such as Listen has no value)."""
    if button.value and button.value.startswith("{"):
        button.value = json.dumps({**json.loads(button.value), "w": workspace})
    return button


def _buttons(state: AlertState, specs: list[tuple[str, str, str | None]]) -> list[ButtonElement]:
    value = button_value(state)
    return [ButtonElement(text=label, action_id=action, value=value, style=style) for action, label, style in specs]


def _footer(state: AlertState, tz: ZoneInfo) -> str:
    parts = []
    if state.owner:
        parts.append(f":raising_hand: {mention(state.owner)} is on it")
    if state.heard_by:
        parts.append(f"heard by {state.heard_by}")
    if state.status == "resolved" and state.resolved_at:
        who = f" by {state.resolved_by}" if state.resolved_by else ""
        parts.append(f"resolved{who} at {_time(state.resolved_at, tz)}")
    return " · ".join(parts)


def _time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


_FAMILY_NOUNS: dict[str, tuple[str, str]] = {
    "lost_call": ("lost call", "lost calls"),
    "voicemail": ("voicemail", "voicemails"),
    "queue": ("queue alert", "queue alerts"),
    "call": ("call event", "call events"),
    "notification": ("notification", "notifications"),
}
DIGEST_LINES = 40


def summary_line(state: AlertState, tz: ZoneInfo) -> str:
    """One line per alert, for digests."""
    state = shown(state)
    done = state.status != "open"
    if state.family == "lost_call":
        line = f" on {state.line}" if state.line else ""
        attempts = f"{state.attempts} attempt{'s' if state.attempts != 1 else ''}"
        text = f":telephone_receiver: {_who(state)}{line} — {attempts}, last {_time(state.last_at, tz)}"
    elif state.family == "voicemail":
        length = f", {state.duration_seconds} s" if state.duration_seconds is not None else ""
        text = f":incoming_envelope: voicemail from {_who(state)}{length} at {_time(state.first_at, tz)}"
    elif state.family == "queue":
        text = f":rotating_light: queue {state.line or state.group_id} since {_time(state.first_at, tz)}"
    else:
        text = _headline(state)
    if done:
        text = f"~{text}~ {state.status}"
    if state.owner and not done:
        text += f" · {mention(state.owner)} is on it"
    return text


def count_phrase(states: list[AlertState], *, more: bool = False) -> str:
    """``3 lost calls, 1 voicemail`` (``3 more lost calls`` with ``more``)."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state.family] = counts.get(state.family, 0) + 1
    parts = []
    for family, count in counts.items():
        one, many = _FAMILY_NOUNS.get(family, ("alert", "alerts"))
        parts.append(f"{count}{' more' if more else ''} {one if count == 1 else many}")
    return ", ".join(parts) or "nothing"


def render_digest(
    title: str, states: list[AlertState], *, tz: ZoneInfo, digest_id: str | None = None
) -> RenderedMessage:
    """One message standing for many alerts: a headline and a list (``states`` newest first, capped).

    With ``digest_id`` it ends in a **Show all** button: the modal behind it lists every member,
    the ones past the cap included, each with its Call back.
    """
    lines = [f"• {summary_line(state, tz)}" for state in states[:DIGEST_LINES]]
    if len(states) > DIGEST_LINES:
        lines.append(f"…and {len(states) - DIGEST_LINES} older — *Show all* lists every one")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=title[:3000]))]
    chunk: list[str] = []
    for line in lines:
        if sum(len(item) + 1 for item in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line[:2900])
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    blocks = blocks[:49]
    if digest_id is not None and states:
        label = f"Show all {len(states)}" if len(states) > 1 else "Show all"
        show_all = ButtonElement(text=label, action_id=SHOW_ALL_ACTION, value=digest_id)
        blocks.append(ActionsBlock(block_id="digest", elements=[show_all]))
    return RenderedMessage(text=title.replace("*", ""), blocks=[block.to_dict() for block in blocks])
