"""The queue threshold modal (queue, vendor, conditions) and reading it back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.config import QueueThreshold
from bot.mrkdwn import escape
from handlers.setup import state as read
from handlers.setup.meta import SetupMeta
from handlers.setup.vendor_form import vendor_name
from handlers.setup.views import input_block, modal, option, plain, text_input

CALLBACK = "setup_threshold_form"
GROUP_MAX = 100
_NUMBERS = ("calls_waiting", "longest_wait_seconds", "min_duration_seconds")


def threshold_modal(scope: str, vendors: list[str]) -> dict[str, Any]:
    """The form adding one queue threshold; ``vendors`` are the configured ones."""
    blocks = [
        text_input(
            "threshold:group",
            "Queue",
            optional=False,
            placeholder="Support",
            hint="A queue's name or id; * for every queue.",
            max_length=GROUP_MAX,
        )
    ]
    if vendors:
        options = [option(vendor_name(v), v) for v in vendors[:100]]
        select = {"type": "static_select", "action_id": "value", "options": options, "placeholder": plain("Any")}
        blocks.append(input_block("threshold:vendor", "Phone system", select, optional=True))
    blocks.append(text_input("threshold:calls_waiting", "Alert when this many calls wait", optional=True, max_length=6))
    blocks.append(
        text_input(
            "threshold:longest_wait_seconds", "…or a caller waits this many seconds", optional=True, max_length=6
        )
    )
    box = option("Alert when no agent is free", "yes")
    blocks.append(
        input_block(
            "threshold:no_free_agent",
            "No free agent",
            {"type": "checkboxes", "action_id": "value", "options": [box]},
            optional=True,
        )
    )
    blocks.append(
        text_input(
            "threshold:min_duration_seconds",
            "For at least (seconds)",
            optional=True,
            placeholder="default: 30",
            max_length=6,
        )
    )
    meta = SetupMeta(scope=scope, form="threshold").dump()
    return modal("Add queue threshold", blocks, callback_id=CALLBACK, private_metadata=meta, submit="Save")


@dataclass(frozen=True)
class ThresholdSubmission:
    """A threshold form read back: the entry to store (``QueueThreshold``-shaped), or problems by block id."""

    entry: dict[str, Any] | None
    errors: dict[str, str]


def read_threshold_form(state: dict[str, Any], vendors: list[str]) -> ThresholdSubmission:
    """Validate a submitted threshold form with :class:`~bot.config.QueueThreshold`."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {"group": read.text(state, "threshold:group")}
    if raw["group"] is None:
        errors["threshold:group"] = "Name a queue, or * for every queue."
    elif len(raw["group"]) > GROUP_MAX:
        errors["threshold:group"] = f"At most {GROUP_MAX} characters."
    vendor = read.selected(state, "threshold:vendor")
    if vendor is not None:
        if vendor not in vendors:
            errors["threshold:vendor"] = "That phone system is not set up."
        raw["vendor"] = vendor
    for name in _NUMBERS:
        typed = read.text(state, f"threshold:{name}")
        if typed is None:
            continue
        if not typed.isdigit() or len(typed) > 6:
            errors[f"threshold:{name}"] = "A whole number of at most 6 digits."
        else:
            raw[name] = int(typed)
    raw["no_free_agent"] = bool(read.checked(state, "threshold:no_free_agent"))
    if errors:
        return ThresholdSubmission(None, errors)
    try:
        threshold = QueueThreshold.model_validate(raw)
    except ValidationError as exc:
        return ThresholdSubmission(None, _threshold_errors(exc))
    return ThresholdSubmission(threshold.model_dump(mode="json", exclude_none=True), {})


def _threshold_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "calls_waiting"
        block = f"threshold:{name}" if name in (*_NUMBERS, "group", "vendor") else "threshold:calls_waiting"
        errors.setdefault(block, str(error["msg"]).removeprefix("Value error, ")[:150])
    return errors


def describe_threshold(threshold: dict[str, Any]) -> str:
    """One mrkdwn line about a stored threshold."""
    group = str(threshold.get("group") or "")
    parts = ["every queue" if group == "*" else f"queue *{escape(group)}*"]
    if threshold.get("vendor"):
        parts.append(f"on {escape(vendor_name(str(threshold['vendor'])))}")
    conditions = []
    if threshold.get("calls_waiting"):
        conditions.append(f"{int(threshold['calls_waiting'])}+ calls waiting")
    if threshold.get("longest_wait_seconds"):
        conditions.append(f"a wait of {int(threshold['longest_wait_seconds'])} s")
    if threshold.get("no_free_agent"):
        conditions.append("no free agent")
    parts.append("alerts at " + " or ".join(conditions or ["—"]))
    return " · ".join(parts)
