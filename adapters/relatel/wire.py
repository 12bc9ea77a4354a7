"""Relatel's JSON shapes turned into small typed records, and number formats.

Sources disagree on some shapes (``shared/vendors/relatel.md``): single objects come wrapped
(``{"employee": {...}}``, FF-DOCS) or bare (the seed's employee-group answers), ``features``
is a string in the seed and a list in GO-FF, ids are integers. Every parser here accepts those
variants and raises :class:`~adapters.errors.VendorUnavailable` ("unexpected answer") for
anything else, so no ``KeyError`` or ``TypeError`` leaves the adapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.errors import VendorUnavailable

VENDOR = "Relatel"

JsonObject = dict[str, Any]

_NUMBER_JUNK = re.compile(r"[\s\-().]")


def unexpected(what: str) -> VendorUnavailable:
    """The error for an answer whose shape phonebot does not understand."""
    return VendorUnavailable(VENDOR, f"{VENDOR} sent an unexpected answer ({what})")


def unwrap_one(body: Any, key: str) -> JsonObject:
    """The object under ``key`` (``{"employee": {...}}``) or the bare object itself."""
    if isinstance(body, dict):
        inner = body.get(key)
        if isinstance(inner, dict):
            return inner
        if key not in body and "id" in body:
            return body
    raise unexpected(f"expected {key!r}")


def unwrap_list(body: Any, key: str) -> list[JsonObject]:
    """The list under ``key`` (``{"employees": [...]}``) or a bare list of objects."""
    items = body.get(key) if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise unexpected(f"expected a list of {key!r}")
    return items


def ident(raw: JsonObject, key: str = "id") -> str:
    """A required id (Relatel sends integers) as a string."""
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) == "":
        raise unexpected(f"missing {key!r}")
    return str(value)


def text(raw: JsonObject, key: str) -> str | None:
    """An optional string field; numbers are accepted (phone numbers sometimes are)."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise unexpected(f"{key!r} is not text")
    return str(value)


def flag(raw: JsonObject, key: str) -> bool:
    """An optional boolean; Rails-style ``"true"``/``"false"`` strings are accepted."""
    value = raw.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise unexpected(f"{key!r} is not a boolean")


def timestamp(raw: JsonObject, key: str) -> datetime | None:
    """An optional ISO 8601 time as an aware UTC datetime (naive values are taken as UTC)."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise unexpected(f"{key!r} is not a time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise unexpected(f"{key!r} is not a time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def id_list(raw: JsonObject, key: str) -> tuple[str, ...]:
    """An optional list of integer ids, as strings."""
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(item, int | str) and not isinstance(item, bool) for item in value
    ):
        raise unexpected(f"{key!r} is not a list of ids")
    return tuple(str(item) for item in value)


def features(raw: JsonObject) -> tuple[str, ...]:
    """``features``: ``"mobile"`` (seed), ``"switch,mobile"`` or ``["switch", "mobile"]`` (GO-FF); else ``()``."""
    value = raw.get("features")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[\s,]+", value) if part)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()  # unused by phonebot today: an odd shape must not break presence


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` and whole seconds, as Relatel's own examples."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def format_time_up(moment: datetime) -> str:
    """:func:`format_time` rounded up to the next whole second: an upper bound that keeps ``moment`` in."""
    if moment.microsecond:
        moment = moment + timedelta(microseconds=1_000_000 - moment.microsecond)
    return format_time(moment)


def to_relatel_number(number: str) -> str | None:
    """``+45 71 99 99 99`` / ``0045…`` / ``4571999999`` -> ``"4571999999"``; ``None`` if not a number.

    Relatel wants the country code and digits only: no ``+`` and no ``00``.
    """
    cleaned = _NUMBER_JUNK.sub("", number.strip())
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    elif cleaned.startswith("00"):
        cleaned = cleaned[2:]
    if not cleaned.isascii() or not cleaned.isdigit() or not 3 <= len(cleaned) <= 15:
        return None
    return cleaned


def to_e164(number: str | None) -> str | None:
    """Relatel's ``4571999999`` -> ``+4571999999`` (the neutral models' form)."""
    if not number:
        return None
    digits = to_relatel_number(number)
    return f"+{digits}" if digits else None


@dataclass(frozen=True)
class Employee:
    """The fields of a Relatel employee that phonebot uses."""

    id: str
    name: str
    number: str | None  # Relatel form: digits with country code
    email: str | None  # not in the documented schema; present on some accounts only
    do_not_disturb: bool
    dnd_timeout_at: datetime | None
    live_presence: str  # an open vocabulary: "available", "unknown", "ringing", ...
    group_ids: tuple[str, ...]
    features: tuple[str, ...]
    admin: bool

    def dnd_at(self, now: datetime) -> bool:
        """DND as of ``now``: an expired ``dnd_timeout_at`` no longer counts, whatever the flag says."""
        return self.do_not_disturb and (self.dnd_timeout_at is None or self.dnd_timeout_at > now)


def parse_employee(raw: JsonObject) -> Employee:
    """One employee object (already unwrapped)."""
    return Employee(
        id=ident(raw),
        name=text(raw, "name") or f"Employee {ident(raw)}",
        number=text(raw, "number") or text(raw, "switch_phone_number") or text(raw, "mobile_phone_number"),
        email=text(raw, "email"),
        do_not_disturb=flag(raw, "do_not_disturb"),
        dnd_timeout_at=timestamp(raw, "dnd_timeout_at"),
        live_presence=(text(raw, "live_presence") or "unknown").lower(),
        group_ids=id_list(raw, "employee_group_ids"),
        features=features(raw),
        admin=flag(raw, "admin"),
    )


@dataclass(frozen=True)
class Group:
    """An employee group (hunt group)."""

    id: str
    name: str
    employee_ids: tuple[str, ...]
    endpoint: str


def parse_group(raw: JsonObject) -> Group:
    """One employee-group object (already unwrapped)."""
    group_id = ident(raw)
    return Group(
        id=group_id,
        name=text(raw, "name") or f"Group {group_id}",
        employee_ids=id_list(raw, "employee_ids"),
        endpoint=text(raw, "endpoint") or f"EmployeeGroup#{group_id}",
    )


@dataclass(frozen=True)
class Reception:
    """A reception (main number / IVR)."""

    id: str
    name: str
    endpoint: str


def parse_reception(raw: JsonObject) -> Reception:
    """One reception object (already unwrapped)."""
    reception_id = ident(raw)
    return Reception(
        id=reception_id,
        name=text(raw, "name") or f"Reception {reception_id}",
        endpoint=text(raw, "endpoint") or f"Reception#{reception_id}",
    )


@dataclass(frozen=True)
class Call:
    """The parts of a call-log entry that say where it is and whether it still waits."""

    uuid: str
    endpoints: frozenset[str]  # the call's endpoint plus every node's endpoint
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None

    @property
    def waiting(self) -> bool:
        """Still ringing: neither answered nor ended."""
        return self.answered_at is None and self.ended_at is None


def parse_call(raw: JsonObject) -> Call:
    """One call object from ``GET /calls``."""
    endpoints = {text(raw, "endpoint")}
    nodes = raw.get("nodes")
    if nodes is not None:
        if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
            raise unexpected("'nodes' is not a list of objects")
        endpoints.update(text(node, "endpoint") for node in nodes)
    return Call(
        uuid=ident(raw, "call_uuid"),
        endpoints=frozenset(e for e in endpoints if e),
        started_at=timestamp(raw, "started_at") or timestamp(raw, "ringing_at"),
        answered_at=timestamp(raw, "answered_at"),
        ended_at=timestamp(raw, "ended_at"),
    )


@dataclass(frozen=True)
class ContactRow:
    """One shared company contact."""

    id: str
    name: str
    number: str | None
    email: str | None


def parse_contact(raw: JsonObject) -> ContactRow:
    """One contact object."""
    return ContactRow(id=ident(raw), name=text(raw, "name") or "", number=text(raw, "number"), email=text(raw, "email"))


def parse_statistics(body: Any) -> tuple[int | None, int | None]:
    """``(answered, missed)`` from ``{"statistics": {...}}``."""
    stats = body.get("statistics") if isinstance(body, dict) else None
    if not isinstance(stats, dict):
        raise unexpected("expected 'statistics'")
    counts: list[int | None] = []
    for key in ("answered", "missed"):
        value = stats.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise unexpected(f"statistics {key!r} is not a count")
        counts.append(value)
    return counts[0], counts[1]


# -- alerts: call-log rows, voicemails and webhook envelopes (pydantic, lenient on extras) -----------
def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Wire(BaseModel):
    # Relatel sends numbers as JSON numbers in places (the seed's ``to_number``) and adds fields freely.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)


class Party(_Wire):
    """``from_contact`` / ``to_contact`` / ``answered_by``: ``{id, name, number}`` (all optional)."""

    id: str | None = None
    name: str | None = None
    number: str | None = None


class CallNode(_Wire):
    """One leg of a call's path (IVR, reception, group, employee)."""

    endpoint: str | None = None
    endpoint_name: str | None = None
    state: str | None = None


class CallRow(_Wire):
    """A call-log entry as ``GET /calls`` (and, presumably, ``call.*`` webhooks) carry it."""

    call_uuid: str = Field(min_length=1)
    status: str
    direction: str | None = None
    endpoint: str | None = None
    endpoint_name: str | None = None
    endpoint_type: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    from_contact: Party | None = None
    to_contact: Party | None = None
    answered_by: Party | None = None
    ringing_at: datetime | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    nodes: list[CallNode] = Field(default_factory=list)

    _aware = field_validator("ringing_at", "started_at", "answered_at", "ended_at")(_utc)

    @field_validator("nodes", mode="before")
    @classmethod
    def _no_nodes(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def endpoints(self) -> frozenset[str]:
        """The call's endpoint plus every node's endpoint (``Reception#10``, ``Employee#1``, ...)."""
        found = {self.endpoint, *(node.endpoint for node in self.nodes)}
        return frozenset(e for e in found if e)

    @property
    def began_at(self) -> datetime | None:
        """When it started ringing (``ringing_at``, else ``started_at``)."""
        return self.ringing_at or self.started_at


class Sound(_Wire):
    """``sound`` of a voicemail: the audio URL (needs a Bearer token) and its formats."""

    url: str | None = None


class VoicemailRow(_Wire):
    """One entry of ``GET /voice_mails``."""

    id: str = Field(min_length=1)
    created_at: datetime
    heard: bool = False
    duration: int | None = None
    endpoint: str | None = None
    endpoint_name: str | None = None
    from_number: str | None = None
    from_contact: Party | None = None
    message: str | None = None  # presumably the transcription (seed field, undocumented)
    sound: Sound | None = None

    _aware = field_validator("created_at")(_utc)

    @field_validator("heard", mode="before")
    @classmethod
    def _unset_is_unheard(cls, value: Any) -> Any:
        return False if value is None else value


class WebhookEnvelope(_Wire):
    """Every Relatel webhook: ``{"delivery_id", "event_type", "occurred_at", "payload"}``.

    The payloads are undocumented; ``payload`` is kept as sent.
    """

    delivery_id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    occurred_at: datetime
    payload: dict[str, Any] | None

    _aware = field_validator("occurred_at")(_utc)
