"""The alert route modal (channel, kinds, vendor and group filters, quiet hours) and reading it back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import ValidationError

from bot.config import AlertFamily, AlertRoute
from bot.mrkdwn import escape
from handlers.setup import state as read
from handlers.setup.meta import SetupMeta
from handlers.setup.vendor_form import vendor_name
from handlers.setup.views import input_block, modal, option, plain, section, text_input

CALLBACK = "setup_route_form"
FAMILY_LABELS: dict[str, str] = {
    "lost_call": "Lost calls",
    "voicemail": "Voicemails",
    "queue": "Queue alerts",
    "call": "Every call",
    "notification": "Vendor notifications",
}
DAYS: dict[str, str] = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}
MAX_GROUPS = 50
GROUP_MAX = 100
NAME_MAX = 80
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,30}")
_DEFAULT_KINDS = ["lost_call", "voicemail", "queue"]


def route_modal(
    scope: str,
    vendors: list[str],
    *,
    current: dict[str, Any] | None = None,
    index: int | None = None,
    was: str | None = None,
    problem: str | None = None,
) -> dict[str, Any]:
    """The add (``current`` ``None``) or edit form of an alert route; ``vendors`` are the configured ones.

    ``problem`` (mrkdwn) is shown on top when the form comes back after a save that did not happen.
    """
    route = current or {}
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "value",
        "placeholder": plain("Pick a channel"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if isinstance(route.get("channel"), str) and _CHANNEL.fullmatch(route["channel"]):
        channel["initial_conversation"] = route["channel"]
    blocks = [section(f":warning: {problem}")] if problem else []
    blocks.append(input_block("route:channel", "Channel", channel, optional=False))
    blocks.append(text_input("route:name", "Name", optional=True, initial=route.get("name"), max_length=NAME_MAX))
    kinds = [option(FAMILY_LABELS[k], k) for k in get_args(AlertFamily)]
    chosen = [o for o in kinds if o["value"] in (route.get("kinds") or _DEFAULT_KINDS)]
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": kinds}
    if chosen:
        element["initial_options"] = chosen
    blocks.append(input_block("route:kinds", "Alerts", element, optional=False))
    if vendors:
        options = [option(vendor_name(v), v) for v in vendors[:100]]
        select: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": options}
        initial = next((o for o in options if o["value"] == route.get("vendor")), None)
        if initial is not None:
            select["initial_option"] = initial
        blocks.append(
            input_block("route:vendor", "Only from", select, optional=True, hint="Empty: every phone system.")
        )
    groups = ", ".join(str(g) for g in route.get("groups") or [])
    blocks.append(
        text_input(
            "route:groups",
            "Only these queues or lines",
            optional=True,
            initial=groups,
            placeholder="Support, Sales",
            hint="Names or ids, separated by commas. Empty: every queue and line.",
        )
    )
    quiet = route.get("quiet_hours") or {}
    blocks.append(section("*Quiet hours* (optional): alerts wait and come as one digest when they end."))
    for key, label in (("start", "Quiet from"), ("end", "Quiet until")):
        picker: dict[str, Any] = {"type": "timepicker", "action_id": "value"}
        if quiet.get(key):
            picker["initial_time"] = quiet[key]
        blocks.append(input_block(f"route:quiet_{key}", label, picker, optional=True))
    days = [option(label, day) for day, label in DAYS.items()]
    box: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": days}
    initial_days = [o for o in days if o["value"] in (quiet.get("days") or [])]
    if initial_days:
        box["initial_options"] = initial_days
    blocks.append(input_block("route:quiet_days", "Quiet on", box, optional=True, hint="Empty: every day."))
    meta = SetupMeta(scope=scope, form="route", index=index, digest=was).dump()
    title = "Edit alert route" if current is not None else "Add alert route"
    return modal(title, blocks, callback_id=CALLBACK, private_metadata=meta, submit="Save")


@dataclass(frozen=True)
class RouteSubmission:
    """A route form read back: the entry to store (``AlertRoute``-shaped), or the problems by block id."""

    entry: dict[str, Any] | None
    errors: dict[str, str]


def read_route_form(state: dict[str, Any], vendors: list[str]) -> RouteSubmission:
    """Validate a submitted route form with :class:`~bot.config.AlertRoute`; ``vendors``: those it may name."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {"channel": read.conversation(state, "route:channel")}
    if raw["channel"] is None or not _CHANNEL.fullmatch(raw["channel"]):
        errors["route:channel"] = "Pick a channel."
    name = read.text(state, "route:name")
    if name is not None:
        raw["name"] = name[:NAME_MAX]
    raw["kinds"] = read.checked(state, "route:kinds")
    if not raw["kinds"]:
        errors["route:kinds"] = "Pick at least one kind of alert."
    vendor = read.selected(state, "route:vendor")
    if vendor is not None:
        if vendor not in vendors:
            errors["route:vendor"] = "That phone system is not set up."
        raw["vendor"] = vendor
    groups = [g.strip() for g in (read.text(state, "route:groups") or "").split(",") if g.strip()]
    if len(groups) > MAX_GROUPS or any(len(g) > GROUP_MAX for g in groups):
        errors["route:groups"] = f"At most {MAX_GROUPS} names, each at most {GROUP_MAX} characters."
    raw["groups"] = groups
    start, end = read.time_of_day(state, "route:quiet_start"), read.time_of_day(state, "route:quiet_end")
    days = read.checked(state, "route:quiet_days")
    if (start is None) != (end is None):
        errors["route:quiet_end" if start else "route:quiet_start"] = "Give both times, or neither."
    elif start is not None:
        raw["quiet_hours"] = {"start": start, "end": end, **({"days": days} if days else {})}
    elif days:
        errors["route:quiet_start"] = "Quiet days need the times too."
    if errors:
        return RouteSubmission(None, errors)
    try:
        route = AlertRoute.model_validate(raw)
    except ValidationError as exc:
        return RouteSubmission(None, _route_errors(exc))
    return RouteSubmission(route.model_dump(mode="json", exclude_none=True), {})


def _route_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        block = "route:channel"
        if loc and loc[0] in ("kinds", "vendor", "groups", "name"):
            block = f"route:{loc[0]}"
        elif loc and loc[0] == "quiet_hours":
            block = {"end": "route:quiet_end", "days": "route:quiet_days"}.get(
                loc[1] if len(loc) > 1 else "", "route:quiet_start"
            )
        errors.setdefault(block, str(error["msg"]).removeprefix("Value error, ")[:150])
    return errors


def describe_route(route: dict[str, Any]) -> str:
    """One mrkdwn line about a stored route (its channel as a link, filters in words)."""
    channel = route.get("channel")
    where = f"<#{channel}>" if isinstance(channel, str) and _CHANNEL.fullmatch(channel) else escape(str(channel))
    kinds = ", ".join(FAMILY_LABELS.get(str(k), escape(str(k))) for k in route.get("kinds") or _DEFAULT_KINDS)
    parts = [f"{where}: {kinds}"]
    if route.get("name"):
        parts.insert(0, f"*{escape(str(route['name']))}*")
    if route.get("vendor"):
        parts.append(f"from {escape(vendor_name(str(route['vendor'])))}")
    if route.get("groups"):
        parts.append("queues " + escape(", ".join(str(g) for g in route["groups"]))[:300])
    quiet = route.get("quiet_hours")
    if isinstance(quiet, dict) and quiet.get("start"):
        parts.append(f"quiet {escape(str(quiet['start']))}\u2013{escape(str(quiet.get('end')))}")
    return " · ".join(parts)
