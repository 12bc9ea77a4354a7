"""The modals for adding or editing a phone system: pick the vendor, then its form, then the outcome."""

from __future__ import annotations

from typing import Any

from adapters.registry import ADAPTERS, adapter_class
from bot.mrkdwn import escape
from handlers.setup.meta import SetupMeta
from handlers.setup.vendor_fields import FormField, form_fields, secret_hint
from handlers.setup.views import input_block, modal, option, plain, section, text_input

PICK_CALLBACK = "setup_vendor_pick"
FORM_CALLBACK = "setup_vendor_form"
PICK_BLOCK = "vendor_pick"


def vendor_name(vendor: str) -> str:
    """The vendor's display name (``Relatel``)."""
    return adapter_class(vendor).display_name if vendor in ADAPTERS else vendor


def pick_modal(scope: str, taken: set[str]) -> dict[str, Any]:
    """Which phone system to add: every adapter phonebot has that is not set up yet."""
    free = [name for name in sorted(ADAPTERS) if name not in taken]
    meta = SetupMeta(scope=scope, form="pick").dump()
    if not free:
        text = "Every phone system phonebot knows is set up already. Edit or remove one from the App Home."
        return modal("Add a phone system", [section(text)], callback_id=PICK_CALLBACK, private_metadata=meta)
    element = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain("Pick a phone system"),
        "options": [option(vendor_name(name), name) for name in free],
    }
    blocks = [input_block(PICK_BLOCK, "Phone system", element, optional=False)]
    return modal("Add a phone system", blocks, callback_id=PICK_CALLBACK, private_metadata=meta, submit="Next")


def picked_vendor(state: dict[str, Any]) -> str | None:
    """The vendor chosen in the pick modal, if it is one phonebot knows."""
    selected = ((state.get(PICK_BLOCK) or {}).get("value") or {}).get("selected_option") or {}
    value = selected.get("value") if isinstance(selected, dict) else None
    return value if isinstance(value, str) and value in ADAPTERS else None


def vendor_modal(
    scope: str,
    vendor: str,
    *,
    stored: dict[str, Any] | None = None,
    typed: dict[str, Any] | None = None,
    problem: str | None = None,
) -> dict[str, Any]:
    """``vendor``'s form. ``stored``: the section being edited (secrets only hinted); ``typed``: what the admin
    entered last time (re-shown after a slow check failed, secrets left out); ``problem``: mrkdwn shown on top."""
    blocks: list[dict[str, Any]] = []
    if problem:
        blocks.append(section(f":warning: {problem}"))
    shown = {**(stored or {}), **(typed or {})}
    for field in form_fields(vendor):
        blocks.append(_input(field, shown.get(field.name), editing=stored is not None and field.name in stored))
    meta = SetupMeta(scope=scope, form="vendor", vendor=vendor).dump()
    title = f"{'Edit' if stored is not None else 'Set up'} {vendor_name(vendor)}"
    return modal(title, blocks, callback_id=FORM_CALLBACK, private_metadata=meta, submit="Check and save")


def _input(field: FormField, current: Any, *, editing: bool) -> dict[str, Any]:
    if field.kind == "secret":
        hint = f"Saved: {secret_hint(current)}. Leave empty to keep it." if editing and current else None
        optional = not field.required or (editing and bool(current))
        return text_input(field.block_id, field.label, optional=optional, hint=hint)
    if field.kind == "bool":
        checked = bool(current) if current is not None else field.default == "True"
        box = option("Yes", "yes")
        element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [box]}
        if checked:
            element["initial_options"] = [box]
        return input_block(field.block_id, field.label, element, optional=True)
    if field.kind == "choice":
        options = [option(choice, choice) for choice in field.choices]
        element = {"type": "static_select", "action_id": "value", "options": options}
        chosen = str(current) if current is not None else field.default
        if chosen in field.choices:
            element["initial_option"] = option(chosen, chosen)
        return input_block(field.block_id, field.label, element, optional=not field.required)
    placeholder = f"default: {field.default}" if field.default else None
    initial = str(current) if current is not None else None
    return text_input(
        field.block_id, field.label, optional=not field.required, initial=initial, placeholder=placeholder
    )


def typed_values(section_values: dict[str, Any], vendor: str) -> dict[str, Any]:
    """What to put back in a re-shown form: everything typed except secrets."""
    secret = {field.name for field in form_fields(vendor) if field.kind == "secret"}
    return {name: value for name, value in section_values.items() if name not in secret}


def checking_modal(scope: str, vendor: str) -> dict[str, Any]:
    """Shown while a slow vendor is checked (the submission's ack replaces the form with it)."""
    meta = SetupMeta(scope=scope, form="vendor", vendor=vendor).dump()
    text = f":hourglass_flowing_sand: Checking {escape(vendor_name(vendor))}\u2026 this view updates when it answers."
    return modal("Checking\u2026", [section(text)], callback_id="setup_checking", private_metadata=meta)


def saved_modal(vendor: str, note: str | None) -> dict[str, Any]:
    """The outcome when the vendor accepted the settings and they were saved."""
    text = f":white_check_mark: {escape(vendor_name(vendor))} is set up for this workspace."
    if note:
        text += f"\n{note}"
    return modal("Phone system saved", [section(text)], callback_id="setup_saved", private_metadata="", close="Done")
