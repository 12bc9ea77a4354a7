"""A vendor's setup form fields, derived from its adapter's pydantic config model, and reading them back.

Only fields an admin types are shown: text, numbers, URLs, secrets, yes/no and fixed choices.
Lists and maps (``paths``, ``alert_endpoints``…) stay at their defaults (or what the section
already holds); the config file is the place for those. Secrets are never put back into a form:
an empty secret field keeps the stored one.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import HttpUrl, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from adapters.base import AdapterConfig
from adapters.path_overrides import PathOverrideError
from adapters.registry import adapter_class, parse_adapter_config

FieldKind = Literal["text", "secret", "bool", "choice"]
#: Longest value typed into one field (a URL, a token); Slack enforces it in the form too.
VALUE_MAX = 500
#: Longest field error Slack shows well under an input.
ERROR_MAX = 150
_LABELS = {"base_url": "Base URL", "api_key": "API key", "api_token": "API token", "oauth_client_id": "OAuth client id"}
_HIDDEN = frozenset({"paths"})


@dataclass(frozen=True)
class FormField:
    """One input of a vendor form."""

    name: str
    label: str
    kind: FieldKind
    required: bool
    #: The model's default as text (a placeholder), when it has a simple one.
    default: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def block_id(self) -> str:
        return f"vendor_field:{self.name}"


def _label(name: str) -> str:
    return _LABELS.get(name) or name.replace("_", " ").capitalize()


def _kind(annotation: Any) -> tuple[FieldKind, tuple[str, ...]] | None:
    """What input a field's type gets, or ``None`` for one the form leaves alone."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _kind(inner[0]) if len(inner) == 1 else None
    if origin is Literal:
        return "choice", tuple(str(arg) for arg in get_args(annotation))
    if annotation is SecretStr:
        return "secret", ()
    if annotation is bool:
        return "bool", ()
    if annotation in (str, int, float, HttpUrl):
        return "text", ()
    return None


def _default_text(info: FieldInfo) -> str | None:
    default = info.get_default(call_default_factory=False)
    if default is None or isinstance(default, SecretStr | list | dict) or info.is_required():
        return None
    return str(default)


def form_fields(vendor: str) -> list[FormField]:
    """The inputs of ``vendor``'s form: base URL first, then what must be given, then the rest."""
    model: type[AdapterConfig] = adapter_class(vendor).config_model
    fields: list[FormField] = []
    for name, info in model.model_fields.items():
        found = None if name in _HIDDEN else _kind(info.annotation)
        if found is None:
            continue
        kind, choices = found
        fields.append(FormField(name, _label(name), kind, info.is_required(), _default_text(info), choices))
    rank = {"base_url": 0}
    return sorted(fields, key=lambda f: (rank.get(f.name, 1 if f.required else 2), f.name == "timeout_seconds"))


def secret_hint(value: object) -> str:
    """How a stored secret is shown: its last 4 characters at most, none of a short one."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")
    return f"•••• {text[-4:]}" if len(text) >= 12 else "••••"


@dataclass(frozen=True)
class VendorSubmission:
    """A vendor form read back: the section to save (YAML-shaped, secrets in it) and its parsed config."""

    section: dict[str, Any]
    config: AdapterConfig | None
    #: block_id → problem, for ``response_action: errors``.
    errors: dict[str, str]


def _typed(state: dict[str, Any], field: FormField) -> tuple[bool, Any]:
    """``(given, value)`` for one field in a view's ``state.values``."""
    element = (state.get(field.block_id) or {}).get("value") or {}
    if not isinstance(element, dict):
        return False, None
    if field.kind == "bool":
        selected = element.get("selected_options")
        return isinstance(selected, list), bool(selected)
    if field.kind == "choice":
        option = element.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return isinstance(value, str), value
    value = element.get("value")
    if not isinstance(value, str) or not value.strip():
        return False, None
    return True, value.strip()


def read_vendor_form(vendor: str, state: dict[str, Any], stored: dict[str, Any] | None) -> VendorSubmission:
    """The section ``state`` (a view's ``state.values``) describes, layered on ``stored`` (editing), validated.

    An empty secret keeps the stored one; an empty other field falls back to the model's default.
    """
    fields = form_fields(vendor)
    section: dict[str, Any] = dict(stored or {})
    errors: dict[str, str] = {}
    for field in fields:
        given, value = _typed(state, field)
        if field.kind == "choice" and given and value not in field.choices:
            errors[field.block_id] = "Pick one of the options."
        elif isinstance(value, str) and len(value) > VALUE_MAX:
            errors[field.block_id] = f"At most {VALUE_MAX} characters."
        elif given:
            section[field.name] = value
        elif field.kind != "secret":
            section.pop(field.name, None)
    if errors:
        return VendorSubmission(section, None, errors)
    try:
        config = parse_adapter_config(vendor, section)
    except ValidationError as exc:
        return VendorSubmission(section, None, _field_errors(exc, fields))
    except PathOverrideError:
        first = fields[0].block_id
        return VendorSubmission(section, None, {first: "The saved path overrides no longer fit this vendor."})
    return VendorSubmission(section, config, {})


def _field_errors(exc: ValidationError, fields: list[FormField]) -> dict[str, str]:
    by_name = {field.name: field.block_id for field in fields}
    errors: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        block = by_name.get(name, fields[0].block_id)
        message = "This is required." if error["type"] == "missing" else str(error["msg"]).removeprefix("Value error, ")
        errors.setdefault(block, message[:ERROR_MAX])
    return errors
