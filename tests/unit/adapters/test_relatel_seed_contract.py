"""Relatel contract tests, written from Relatel's documents and not from the adapter.

The documents are ``shared/seeds/000_1e86c17c83c34bee.txt`` ("000", the Relatel API 2.1.2 Redoc page
rendered with every URL path stripped) and ``001_402af6a5f276d404.txt`` ("001", the contacts page,
which prints its paths). Where they are silent (paths, headers, the call-list filters, webhooks) the
contract rests on ``shared/vendors/relatel.md`` ("the notes"), which names the public source of each
fact. Every part the contracts use is quoted verbatim in ``tests/fixtures/relatel/`` (see its README),
one excerpt per operation naming its file and lines, and read through ``tests/contract_excerpts.py``;
when ``shared/`` is reachable the quotes are first checked against the documents, so the suite runs
on a clean clone and a misquote still fails.

What the checks know comes out of those quotes: each operation's parameter rows
(``limit | integer <= 100 ...``), its example body and answer (000's Redoc JSON, ``- `` bullets
and all, read by :func:`redoc_json`), the number rule (000 ~3), the notes' endpoint tables (method,
path, sources), the call-list filters, the token and JSON header rules, and the webhook envelope and
signature. Readings of ours are stated where they are made: a parameter named in the path template is
the path's; the other parameters of a GET are its query and those of a write its body; every ``*_at``
value is an ISO 8601 time (notes ~76), also where 000's call example prints ``"string"``; fields that
may be ``null`` (:data:`NULLABLE`) and fields beyond the examples (:data:`EXTRAS`) are listed with
their reason.

The same contracts run on the requests :class:`RelatelAdapter` sends to :class:`RelatelSimulator`
(captured through ``GET /_sim/requests``, headers included) and to :class:`DocumentServer`, which
answers only the documents' own examples; on the simulator's answers; and on the adapter reading the
documents' examples. So neither the adapter nor the simulator can drift from the documents
unnoticed. ``test_the_checker_catches_bad_requests`` / ``_bad_answers`` show each check failing on a
broken field. ``test_every_endpoint_row_carries_its_evidence`` holds ``adapters/relatel/paths.py`` to
the same quotes (issue 10 point 9).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.errors import WebhookAuthError
from adapters.events import AlertKind
from adapters.http import RetryPolicy
from adapters.models import Contact, Presence, PresenceChange, UserTokens, VendorIdentity, VendorUser
from adapters.relatel import wire
from adapters.relatel.adapter import RelatelAdapter, RelatelConfig
from adapters.relatel.paths import ENDPOINTS
from adapters.relatel.simulator import ADMIN_TOKEN, BOB_TOKEN, WEBHOOK_SECRET, RelatelSimulator
from adapters.simulation import LoopbackServer, SimulatorBase
from tests.contract_excerpts import Excerpt, load_excerpts, misquotes, shared_document

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests/fixtures/relatel"
SEED_000 = "000_1e86c17c83c34bee.txt"
SEED_001 = "001_402af6a5f276d404.txt"
NOTES = "relatel.md"
SEED_SHA256 = {
    SEED_000: "a7a22f468b92b5a03759db9865319be89d70db0228f6e01a17d80c307232affd",
    SEED_001: "57ff0bed37bacdfb0ea2f4781e9b505cd1e32271a566bbd21a29538b493144e7",
}
#: The API root under the host (000 ~12 'https://app.relatel.dk/api/v2/authorize?...', 001 ~49).
PREFIX = "/api/v2"
#: 000's own sample time (~143 and every other ``date-time`` example), for the ``*_at`` it prints as "string".
SAMPLE_TIME = "2019-08-24T14:15:22Z"
DOC_TOKEN = "a-one-off-access-token"
FAST = RetryPolicy(attempts=1, base_delay=0.001, max_delay=0.001)


# -- the quoted documents ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter row of 000 (``from_time required | string <date-time> Start of ... |``)."""

    name: str
    required: bool
    type: str
    format: str | None = None
    maximum: int | None = None
    enum: tuple[str, ...] | None = None


_PARAM = re.compile(
    r"^(?P<name>\w+)(?P<required> required)? \| (?P<type>\w+)(?: <(?P<format>[\w-]+)>)?(?: <= (?P<maximum>\d+))?"
    r"(?P<rest>.*)\|$"
)
_PRINTED = re.compile(r"^(GET|POST|PUT|DELETE) (/api/v2/\S+)$")


class Quote(Excerpt):
    """An excerpt of 000, 001 or the notes, and what it says."""

    def examples(self) -> dict[int, Any]:
        """The example bodies and answers by their first line: 000's Redoc JSON (or 001's plain JSON)."""
        found: dict[int, Any] = {}
        numbered = list(self.numbered())
        at = 0
        while at < len(numbered):
            first, text = numbered[at]
            if not text.startswith("{"):
                at += 1
                continue
            depth, end = 0, at
            for end in range(at, len(numbered)):
                depth += _depth(numbered[end][1])
                if depth == 0:
                    break
            found[first] = redoc_json([line for _, line in numbered[at : end + 1]])
            at = end + 1
        return found

    def example(self, index: int) -> Any:
        return list(self.examples().values())[index]

    def params(self) -> dict[str, Param]:
        """The operation's parameter rows."""
        rows: dict[str, Param] = {}
        for text in self.lines:
            found = _PARAM.match(text)
            if found is None:
                continue
            enum = re.search(r'Enum: ((?:"[^"]*" ?)+)', found["rest"])
            rows[found["name"]] = Param(
                found["name"],
                found["required"] is not None,
                found["type"],
                found["format"],
                int(found["maximum"]) if found["maximum"] else None,
                tuple(re.findall(r'"([^"]*)"', enum.group(1))) if enum else None,
            )
        return rows

    def printed(self) -> list[tuple[int, str, str]]:
        """``(line, method, path)`` for each request line the excerpt prints (001: ``GET /api/v2/contacts``)."""
        found = []
        for number, text in self.numbered():
            line = _PRINTED.match(text.strip())
            if line is not None:
                path = re.sub(r":(\w+)", r"{\1}", line.group(2)).removeprefix(PREFIX)
                found.append((number, line.group(1), path))
        return found


def _depth(text: str) -> int:
    """How much ``text`` opens (``{``, ``[``) minus closes, outside strings."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = not (char == '"' and not escaped)
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


_BULLET = re.compile(r"(^|[{\[,]\s*)- ")


def redoc_json(lines: Sequence[str]) -> Any:
    """000's examples are JSON with a ``- `` bullet before each member and item; nothing else is changed."""
    return json.loads("\n".join(_BULLET.sub(r"\1", line) for line in lines))


@cache
def quotes() -> dict[str, dict[str, Quote]]:
    return {
        "000": load_excerpts(FIXTURES / "000_excerpts.txt", Quote),
        "001": load_excerpts(FIXTURES / "001_excerpts.txt", Quote),
        "notes": load_excerpts(FIXTURES / "notes_excerpts.txt", Quote),
    }


def quoted(document: str, name: str) -> Quote:
    return quotes()[document][name]


@dataclass(frozen=True)
class NotesRow:
    """One row of the notes' endpoint tables: ``| B | GET | `/employee` | purpose | params | response | source |``."""

    method: str
    paths: tuple[str, ...]
    params: str
    response: str
    sources: str


@cache
def notes_rows() -> list[NotesRow]:
    rows = []
    for excerpt in quotes()["notes"].values():
        if not excerpt.name.endswith(".table"):
            continue
        for text in excerpt.lines:
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", text)]
            if len(cells) != 9 or cells[2] not in ("GET", "POST", "PUT", "DELETE"):
                continue
            named = re.findall(r"`([^`]+)`", cells[3])
            paths = [named[0]] + [named[0].rsplit("/", 1)[0] + more for more in named[1:]]  # `/a/{id}/join` · `/leave`
            rows.append(NotesRow(cells[2], tuple(paths), cells[5], cells[6], cells[7]))
    return rows


def notes_row(method: str, path: str) -> NotesRow:
    [row] = [row for row in notes_rows() if row.method == method and path in row.paths]
    return row


@cache
def public_sources() -> frozenset[str]:
    """The public source keys of the notes' Sources table (FF-DOCS, GO-FF, ...), not ``seed``."""
    keys = {
        cells[1].strip()
        for text in quoted("notes", "sources").lines
        if len(cells := text.split("|")) > 2 and cells[1].strip() not in ("key", "---", "seed", "")
    }
    return frozenset(keys)


def named_sources(text: str) -> set[str]:
    return {key for key in public_sources() if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text)}


# -- shapes: what an example says about a value --------------------------------------------------------
ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True)
class Leaf:
    """One example value read as a contract: its JSON type, and whether it is a time."""

    example: Any
    kind: type
    time: bool = False


def shape_of(example: Any, key: str = "") -> Any:
    """The example with each value read as a :class:`Leaf` (a list's shape is its first item's; ``{ }`` is any object).

    A ``*_at`` value is a time whatever 000 prints for it (notes ~76 "Times are ISO 8601").
    """
    if isinstance(example, dict):
        return {k: shape_of(v, k) for k, v in example.items()}
    if isinstance(example, list):
        return [shape_of(example[0], key)]
    is_time = isinstance(example, str) and (ISO_8601.fullmatch(example) is not None or key.endswith("_at"))
    return Leaf(example, type(example), is_time)


def sample(shape: Any) -> Any:
    """A value of the shape: the example itself, with 000's sample time where a time prints as "string"."""
    if isinstance(shape, dict):
        return {k: sample(v) for k, v in shape.items()}
    if isinstance(shape, list):
        return [sample(shape[0])]
    leaf: Leaf = shape
    if leaf.time and not ISO_8601.fullmatch(str(leaf.example)):
        return SAMPLE_TIME
    return copy.deepcopy(leaf.example)


def is_time(value: Any) -> bool:
    if not isinstance(value, str) or ISO_8601.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def conforms(
    value: Any,
    shape: Any,
    *,
    nullable: frozenset[str] = frozenset(),
    extras: frozenset[str] = frozenset(),
    partial: bool = False,
    where: str = "",
) -> list[str]:
    """Every way ``value`` differs from the example's shape: fields missing or extra, types, times.

    Fields are named by their path from the root without list indexes (``calls.from_contact.email``);
    ``nullable`` and ``extras`` name the ones that may be ``null`` or need not be in the example.
    ``partial``: fields may be left out (a write sends only what it changes).
    """
    here = where or "(root)"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{here}: {value!r} is not an object"]
        if not shape:
            return []  # 000 prints ``{ }``: any object
        errors = [] if partial else [f"{here}: missing {k!r}" for k in shape if k not in value]
        for key in value:
            path = f"{where}.{key}" if where else key
            if key not in shape:
                if path not in extras:
                    errors.append(f"{path}: not in the documents")
                continue
            if value[key] is None:
                if path not in nullable:
                    errors.append(f"{path}: null where the documents show {sample(shape[key])!r}")
                continue
            errors += conforms(value[key], shape[key], nullable=nullable, extras=extras, partial=partial, where=path)
        return errors
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{here}: {value!r} is not an array"]
        return [e for item in value for e in conforms(item, shape[0], nullable=nullable, extras=extras, where=where)]
    leaf: Leaf = shape
    numeric = leaf.kind is float and isinstance(value, int | float)
    if isinstance(value, bool) != (leaf.kind is bool) or not (isinstance(value, leaf.kind) or numeric):
        return [f"{here}: {value!r} is not {leaf.kind.__name__} (the documents show {leaf.example!r})"]
    if leaf.time and not is_time(value):
        return [f"{here}: {value!r} is not an ISO 8601 time"]
    return []


def within(prefix: str, names: set[str]) -> frozenset[str]:
    return frozenset(f"{prefix}.{name}" if prefix else name for name in names)


# -- what may be null, and what may come beyond the examples ----------------------------------------------
#: Employee fields that may be null: no DND expiry (notes ~102 "Clear it with ... dnd_timeout_at: null"),
#: no caller-ID reception (notes ~87 "cloak_reception_id": 12|null), a person with only one of the two
#: products (000 ~4-7: a switchboard and mobile subscriptions) has only one of the two numbers.
EMPLOYEE_NULLABLE = {"dnd_timeout_at", "cloak_reception", "mobile_phone_number", "switch_phone_number"}
#: Beyond 000's employee: "live data also has endpoint, number_formatted (JENSEN)" (notes ~88); ``email``
#: is in no document. The simulator serves it because the adapter reads it when present (the README's
#: matrix: "when the API returns emails; else map users explicitly").
EMPLOYEE_EXTRAS = {"endpoint", "number_formatted", "email"}
#: The list of groups carries each group's ``endpoint`` (notes ~112, FF-DOCS).
GROUP_EXTRAS = {"endpoint"}
#: A call not answered or not ended yet ("recent calls with no answered_at/ended_at", notes ~198), a
#: party that is no contact, no smiley (000 ~338: asked for after the call ended).
CALL_NULLABLE = {
    "answered_at",
    "ended_at",
    "answered_by",
    "from_contact",
    "to_contact",
    "smiley",
    "from_contact.email",
    "to_contact.email",
}
#: "Live extras (JENSEN, ZALYE, FF-DOCS): endpoint_name, remote_number, talk_duration, voice_mail, nodes[] ...,
#: recording{...}" (notes ~143-146).
CALL_EXTRAS = {"endpoint_name", "remote_number", "talk_duration", "voice_mail", "nodes", "recording"}
#: No transcription (``message``, "presumably a transcription", notes ~173), no comment, a caller who is no contact.
VOICEMAIL_NULLABLE = {"message", "comment", "from_contact", "from_contact.email"}
#: The notes' voicemail row (~167): ``endpoint_name`` and ``sound{formats, url}`` besides 000's fields.
VOICEMAIL_EXTRAS = {"endpoint_name", "sound"}
#: A contact saved without an email (001 ~70-81 lists it among the properties, not as required).
CONTACT_NULLABLE = {"email"}


@dataclass(frozen=True)
class Answer:
    """What an operation answers: the documents' shape and the named exceptions."""

    shape: Any
    nullable: frozenset[str] = frozenset()
    extras: frozenset[str] = frozenset()

    def errors(self, body: Any) -> list[str]:
        return conforms(body, self.shape, nullable=self.nullable, extras=self.extras)


def employee_answer(example: Any, prefix: str) -> Answer:
    return Answer(shape_of(example), within(prefix, EMPLOYEE_NULLABLE), within(prefix, EMPLOYEE_EXTRAS))


def voicemail_answer(example: Any, prefix: str = "") -> Answer:
    return Answer(shape_of(example), within(prefix, VOICEMAIL_NULLABLE), within(prefix, VOICEMAIL_EXTRAS))


def group_example() -> Any:
    """The group object of 000's create answer (~290-298), also the update's answer (~303-311)."""
    return quoted("000", "employee_group.create").example(1)


def receptions_shape() -> Any:
    """The notes' receptions row (~192) names the fields; their types are 000's for an id, a name, a number."""
    response = notes_row("GET", "/receptions").response
    assert response == '`{"receptions": [{id, name, phone_number{number}, endpoint}]}`', response
    return shape_of({"receptions": [{"id": 0, "name": "string", "phone_number": {"number": "string"}, "endpoint": ""}]})


# -- what the documents say each operation is --------------------------------------------------------
#: The call-list filters: 000 prints none; the notes (~131-137) name these.
CALL_FILTERS = (
    "limit",
    "number",
    "endpoint",
    "direction",
    "status",
    "started_at_gt_or_eq",
    "started_at_lt_or_eq",
    "ended_at_gt_or_eq",
    "ended_at_lt_or_eq",
)
#: The dial's one required field: "(only `to_number` is required)" (notes ~126); 000 marks none.
DIAL_REQUIRED = frozenset({"to_number"})


@dataclass(frozen=True)
class Operation:
    """An operation the adapter uses, as the documents describe it."""

    endpoint: str  # the paths.py row it is
    method: str
    path: str  # the documents' path (the notes' table, or 001's request line), ``{id}`` for the id
    seed: tuple[str, str] | None  # the excerpt that is the operation: ("000", name) or ("001", name)
    answer_from: tuple[str, str, int] | None = None  # excerpt and example index of the answer's shape

    def quote(self) -> Quote | None:
        return quoted(*self.seed) if self.seed else None

    def params(self) -> dict[str, Param]:
        quote = quoted("000", "contacts") if self.endpoint == "contacts" else self.quote()
        return quote.params() if quote is not None else {}

    def placeholders(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def query(self) -> dict[str, Param]:
        """What the query may carry (a GET's parameters, less the path's; the notes' filters for calls)."""
        if self.endpoint == "calls":
            return {name: _filter(name) for name in CALL_FILTERS}
        if self.method != "GET":
            return {}
        return {n: p for n, p in self.params().items() if n not in self.placeholders()}

    def answer(self) -> Answer | None:
        if self.endpoint == "employee_groups":
            return Answer(
                {"employee_groups": [shape_of(group_example())]}, extras=within("employee_groups", GROUP_EXTRAS)
            )
        if self.endpoint == "receptions":
            return Answer(receptions_shape())
        if self.answer_from is None:
            return None
        document, name, index = self.answer_from
        example = quoted(document, name).example(index)
        key = next(iter(example)) if len(example) == 1 and isinstance(next(iter(example.values())), list | dict) else ""
        if name.startswith("employee") and not name.startswith("employee_group"):
            return employee_answer(example, key)
        if name.startswith("voice_mail"):
            return voicemail_answer(example, key)
        if name == "calls":
            return Answer(shape_of(example), within("calls", CALL_NULLABLE), within("calls", CALL_EXTRAS))
        if name == "contacts":
            return Answer(shape_of(example), within("contacts", CONTACT_NULLABLE))
        if name.startswith("employee_group"):
            return Answer(shape_of(example), extras=frozenset(GROUP_EXTRAS))
        return Answer(shape_of(example))

    def match(self, method: str, path: str) -> bool:
        pattern = re.escape(PREFIX + self.path)
        for name in self.placeholders():
            pattern = pattern.replace(re.escape("{" + name + "}"), "[^/]+")
        return method == self.method and re.fullmatch(pattern, path) is not None


def _filter(name: str) -> Param:
    assert f"`{name}`" in quoted("notes", "calls.filters").text, name
    if name == "limit":
        return Param(name, False, "integer", maximum=100)  # "default 30, **max 100**"
    return Param(name, False, "string", "date-time" if name.endswith(("_gt_or_eq", "_lt_or_eq")) else None)


OPERATIONS: dict[str, Operation] = {
    op.endpoint: op
    for op in (
        Operation("employee.me", "GET", "/employee", ("000", "employee.me"), ("000", "employee.me", 0)),
        Operation(
            "employee.me.update", "PUT", "/employee", ("000", "employee.me.update"), ("000", "employee.me.update", 1)
        ),
        Operation("employees", "GET", "/employees", ("000", "employees"), ("000", "employees", 0)),
        Operation("employee", "GET", "/employees/{id}", ("000", "employee"), ("000", "employee", 0)),
        Operation(
            "employee.update", "PUT", "/employees/{id}", ("000", "employee.update"), ("000", "employee.update", 1)
        ),
        Operation("employee_groups", "GET", "/employee_groups", None),
        Operation("employee_group.join", "POST", "/employee_groups/{id}/join", None),
        Operation("employee_group.leave", "POST", "/employee_groups/{id}/leave", None),
        Operation(
            "employee_group.update",
            "PUT",
            "/employee_groups/{id}",
            ("000", "employee_group.update"),
            ("000", "employee_group.update", 1),
        ),
        Operation("calls", "GET", "/calls", ("000", "calls"), ("000", "calls", 0)),
        Operation("switch.dial", "POST", "/switch/dial", ("000", "switch.dial"), ("000", "switch.dial", 1)),
        Operation("voice_mails", "GET", "/voice_mails", ("000", "voice_mails"), ("000", "voice_mails", 0)),
        Operation("voice_mail", "GET", "/voice_mails/{id}", ("000", "voice_mail"), ("000", "voice_mail", 0)),
        Operation(
            "voice_mail.update",
            "PUT",
            "/voice_mails/{id}",
            ("000", "voice_mail.update"),
            ("000", "voice_mail.update", 1),
        ),
        Operation("voice_mail.sound", "GET", "/voice_mails/{id}/sound", None),
        Operation("receptions", "GET", "/receptions", None),
        Operation(
            "reception.statistics",
            "GET",
            "/receptions/{id}/statistics",
            ("000", "reception.statistics"),
            ("000", "reception.statistics", 0),
        ),
        Operation("contacts", "GET", "/contacts", ("001", "contacts"), ("000", "contacts", 0)),
    )
}


# -- request bodies ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Body:
    """A write's body: its wrapper key (``{"employee": {...}}``), its fields' shapes, and the rules on them."""

    wrapper: str | None
    fields: dict[str, Any]
    required: frozenset[str] = frozenset()
    nullable: frozenset[str] = frozenset()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()

    def errors(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return [f"the body {body!r} is not a JSON object"]
        fields = body
        if self.wrapper is not None:
            if list(body) != [self.wrapper] or not isinstance(body[self.wrapper], dict):
                return [f"the body is not {{{self.wrapper!r}: {{...}}}}: {body!r}"]
            fields = body[self.wrapper]
        errors = [f"required {name!r} is missing" for name in self.required if name not in fields]
        errors += conforms(fields, self.fields, nullable=self.nullable, partial=True)
        for name, choices in self.enums.items():
            if name in fields and fields[name] not in choices:
                errors.append(f"{name}: {fields[name]!r} is not one of {choices}")
        errors += [
            f"{name}: {fields[name]!r} is no number"
            for name in self.numbers
            if name in fields and not is_number(fields[name])
        ]
        return errors


def body_rule(op: Operation) -> Body | None:
    """The body a write sends, from its own example body (its wrapper) and the object it writes."""
    quote = op.quote()
    if op.method == "GET" or quote is None:
        return None  # the join/leave routes take only the id (FF-DOCS, the notes' groups table: `id`)
    body = quote.example(0)
    wrapper = next(iter(body)) if len(body) == 1 and isinstance(next(iter(body.values())), dict) else None
    if op.endpoint in ("employee.update", "employee.me.update"):
        # 000 ~185/~242 'employee | object |' and '{- "employee": { }': the employee's own fields, as its answer shows.
        fields = shape_of(quote.example(1)["employee"])
        return Body(wrapper, fields, nullable=frozenset({"dnd_timeout_at"}))
    if op.endpoint == "employee_group.update":
        # 000 ~300 '{- "employee_group": { }': the group's writable fields, as the create body (~283-289) sets them.
        return Body(wrapper, shape_of(quoted("000", "employee_group.create").example(0)["employee_group"]))
    if op.endpoint == "switch.dial":
        params = quote.params()  # "to_number | string ...": each a string, whatever the example prints
        return Body(
            None,
            {name: Leaf("string", str) for name in params},
            required=DIAL_REQUIRED,
            enums={n: p.enum for n, p in params.items() if p.enum is not None},
            numbers=frozenset({"to_number"}),
        )
    assert wrapper is not None, op.endpoint
    return Body(wrapper, shape_of(body[wrapper]))


def is_number(value: Any) -> bool:
    """000 ~3: "All phone numbers include the country calling code, without 00 or + prefix" (as text)."""
    return isinstance(value, str) and re.fullmatch(r"[1-9]\d{5,14}", value) is not None


# -- the request check --------------------------------------------------------------------------------------
def query_errors(op: Operation, query: Mapping[str, list[str]]) -> list[str]:
    allowed = op.query()
    errors = [f"undocumented query parameter {name!r}" for name in query if name not in allowed]
    errors += [f"required {n!r} is missing" for n, p in allowed.items() if p.required and n not in query]
    for name, values in query.items():
        param = allowed.get(name)
        if param is None:
            continue
        for value in values:
            errors += [f"{name}: {problem}" for problem in param_errors(param, value)]
    return errors


def param_errors(param: Param, value: str) -> list[str]:
    """A query value against its row: integers, ``<= max``, ``<date-time>``, enums, numbers and times (notes ~76)."""
    if param.type == "integer" or param.name == "limit":
        if not value.isdigit():
            return [f"{value!r} is not an integer"]
        maximum = param.maximum or (100 if param.name == "limit" else None)  # notes: "max 100" for every list
        return [f"{value} is over {maximum}"] if maximum is not None and int(value) > maximum else []
    if param.format == "date-time" or param.name.endswith(("_gt_or_eq", "_lt_or_eq")):
        return [] if is_time(value) else [f"{value!r} is not an ISO 8601 time"]
    if param.enum is not None and not set(value.split(",")) <= set(param.enum):
        return [f"{value!r} is not a comma list of {param.enum}"]
    if param.name == "number" and not is_number(value):
        return [f"{value!r} is no number (country code, no + or 00)"]
    return []


def check_request(row: Mapping[str, Any], *, tokens: frozenset[str]) -> tuple[str | None, list[str]]:
    """Which operation a captured request is, and every way it breaks the documents (empty when it conforms)."""
    matches = [op for op in OPERATIONS.values() if op.match(row["method"], row["path"])]
    if not matches:
        return None, [f"{row['method']} {row['path']} is no operation of the documents that phonebot uses"]
    [op] = matches
    headers = {k.lower(): v for k, v in row["headers"].items()}
    errors: list[str] = []
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or token not in tokens:  # notes ~60 "header `Authorization: Bearer <token>`"
        errors.append(f"authorization is {headers.get('authorization')!r}, not Bearer and a token")
    if "application/json" not in headers.get("accept", ""):  # notes ~36 "Send `Accept: application/json`"
        errors.append(f"accept is {headers.get('accept')!r}, not application/json")
    segments = dict(zip(op.path.split("/"), row["path"].removeprefix(PREFIX).split("/"), strict=True))
    for name in op.placeholders():  # "id required | integer ..." (the voicemail's "any": 000's ids are integers)
        if not segments["{" + name + "}"].isdigit():
            errors.append(f"{name}: {segments['{' + name + '}']!r} is not an integer id")
    errors += query_errors(op, row["query"])
    rule = body_rule(op)
    if rule is None:
        if row["body"] is not None:
            errors.append(f"a body {row['body']!r} where the documents have none")
    else:
        errors += rule.errors(row["body"])
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":  # notes ~36-37 "use JSON"
            errors.append(f"content-type is {headers.get('content-type')!r}, not application/json")
    return op.endpoint, [f"{op.endpoint}: {error}" for error in errors]


# -- servers -----------------------------------------------------------------------------------------------
def recorded(server: LoopbackServer) -> list[dict[str, Any]]:
    answer = httpx.get(server.url + "/_sim/requests")
    answer.raise_for_status()
    rows = answer.json()
    assert isinstance(rows, list)
    return rows


AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00documented audio"


@dataclass
class DocumentServer(SimulatorBase):
    """Answers each operation with the documents' own example and nothing else (404 for anything they lack).

    The examples are 000's as printed, a ``*_at`` printed "string" made 000's sample time. Three
    operations have no example: the list of groups is 000's group object in the notes' wrapper (~112),
    the receptions are the notes' fields (~192) with 000's placeholder values, the sound is the notes'
    ``audio/mpeg``. A group update keeps the ``employee_ids`` it was sent, so a re-read sees the write;
    the 2014 join/leave routes are in no document and answer 404.
    """

    answers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, op in OPERATIONS.items():
            answer = op.answer()
            if answer is not None:
                self.answers[name] = sample(answer.shape)
        self.answers["contacts"] = quoted("001", "contacts").example(0)  # the page that prints the path
        self.group = self.answers["employee_groups"]["employee_groups"][0]

    def routes(self) -> list[BaseRoute]:
        def answer(name: str) -> Any:
            async def endpoint(request: Request) -> Response:
                if name == "voice_mail.sound":
                    return Response(AUDIO, media_type="audio/mpeg")
                if name == "employee_group.update":
                    self.group["employee_ids"] = (await request.json())["employee_group"]["employee_ids"]
                    return JSONResponse(copy.deepcopy(self.group))
                return JSONResponse(copy.deepcopy(self.answers[name]))

            return endpoint

        return [
            Route(PREFIX + op.path, answer(name), methods=[op.method])
            for name, op in OPERATIONS.items()
            if name in self.answers or name in ("voice_mail.sound", "employee_group.update")
        ]


@pytest.fixture(scope="module")
def sim() -> RelatelSimulator:
    return RelatelSimulator()


@pytest.fixture(scope="module")
def sim_server(sim: RelatelSimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture(scope="module")
def doc() -> DocumentServer:
    return DocumentServer()


@pytest.fixture(scope="module")
def doc_server(doc: DocumentServer) -> Iterator[LoopbackServer]:
    with LoopbackServer(doc.build_app()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(sim: RelatelSimulator, doc: DocumentServer) -> None:
    sim.reset()
    doc.requests.clear()
    doc.group["employee_ids"] = [0]


async def _adapter(server: LoopbackServer, token: str) -> AsyncIterator[RelatelAdapter]:
    adapter = RelatelAdapter(
        RelatelConfig(base_url=server.url + PREFIX, token=token, webhook_secret=WEBHOOK_SECRET), retry=FAST
    )
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def on_sim(sim_server: LoopbackServer) -> AsyncIterator[RelatelAdapter]:
    async for adapter in _adapter(sim_server, ADMIN_TOKEN):
        yield adapter


@pytest.fixture
async def on_doc(doc_server: LoopbackServer) -> AsyncIterator[RelatelAdapter]:
    async for adapter in _adapter(doc_server, DOC_TOKEN):
        yield adapter


def doc_headers(token: str = ADMIN_TOKEN) -> dict[str, str]:
    """A request as the notes say to send one (~36, ~60)."""
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def sim_get(server: LoopbackServer, path: str, token: str = ADMIN_TOKEN, **params: Any) -> Any:
    answer = httpx.get(server.url + PREFIX + path, headers=doc_headers(token), params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- the quotes ---------------------------------------------------------------------------------------------
def test_the_excerpts_are_the_documents_own_lines() -> None:
    assert {e.source for e in quotes()["000"].values()} == {SEED_000}
    assert {e.source for e in quotes()["001"].values()} == {SEED_001}
    assert {e.source for e in quotes()["notes"].values()} == {NOTES}
    every = [e for excerpts in quotes().values() for e in excerpts.values()]
    problems = misquotes(every, sha256=SEED_SHA256)
    if problems is None:
        pytest.skip("shared/ is not beside this checkout; the quoted excerpts are used as they are")
    assert problems == []


def test_the_quotes_read_as_the_contracts_expect() -> None:
    """Every example parses; the two id-less employee reads are the same answer, so which is "me" changes nothing."""
    for document in ("000", "001"):
        for excerpt in quotes()[document].values():
            assert excerpt.examples() or excerpt.name in ("numbers", "access"), excerpt.name
    assert quoted("000", "employee").examples().keys() == {157}
    assert quoted("000", "employee").example(0) == quoted("000", "employee.me").example(0)
    assert quoted("000", "employee.update").params()["id"] == Param("id", True, "integer")
    assert quoted("000", "reception.statistics").params()["phase"].enum == ("open", "closed", "backup")
    assert quoted("000", "contacts").params()["limit"] == Param("limit", False, "integer", maximum=100)
    assert quoted("000", "switch.dial").params()["restrict_to"].enum == ("", "web_call", "mobile")
    assert quoted("001", "contacts").printed() == [(49, "GET", "/contacts")]
    # 001's contact example is 000's contact with fewer fields, each of the same type.
    [listed] = quoted("001", "contacts").example(0)["contacts"]
    assert conforms(listed, shape_of(quoted("000", "contacts").example(0)["contacts"][0]), partial=True) == []
    assert "without 00 or + prefix" in quoted("000", "numbers").text
    assert "Every request to a user\N{RIGHT SINGLE QUOTATION MARK}s data is authenticated by an access token." in (
        quoted("000", "access").text
    )


def test_every_operation_the_adapter_uses_is_in_the_contract() -> None:
    assert set(ENDPOINTS) == set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_adapters_paths_are_the_documents(name: str) -> None:
    """Method and path of each row as the notes' tables (or 001's request line) give them."""
    op, endpoint = OPERATIONS[name], ENDPOINTS[name]
    assert (endpoint.method, endpoint.path) == (op.method, op.path)
    notes_row(op.method, op.path)  # exactly one row of the notes' tables has it


# -- issue 10 point 9: every paths.py row carries its evidence ----------------------------------------------------
NOTE = re.compile(
    r"^(?:(?P<document>000|001) ~(?P<first>\d+)-(?P<last>\d+) '(?P<words>[^']+)'|no seed operation)[^;]*"
    r"; path: (?P<path>[^;]+)"
)


def printed_anywhere(method: str, path: str) -> bool:
    """Whether a document prints ``method path`` (as ``GET /api/v2/contacts/:id``): its quotes, or itself."""
    colons = re.sub(r"{(\w+)}", r":\1", path)
    line = f"{method} {PREFIX}{colons}"
    texts = [e.text for document in ("000", "001") for e in quotes()[document].values()]
    for name in (SEED_000, SEED_001):
        found = shared_document(name)
        if found is not None:
            texts.append(found.read_text(encoding="utf-8"))
    return any(re.search(rf"^{re.escape(line)}$", text, re.MULTILINE) for text in texts)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_endpoint_row_carries_its_evidence(name: str) -> None:
    """Issue 10 point 9: ``seed`` only when the operation's own text prints the path; the rest name their source."""
    endpoint, op = ENDPOINTS[name], OPERATIONS[name]
    note = NOTE.match(endpoint.note)
    assert note is not None, f"{name}: the note is not '<operation>; path: <evidence>': {endpoint.note!r}"
    row = notes_row(op.method, op.path)
    # The operation: the block of 000/001 quoted under this row's name, or none.
    if note["document"]:
        excerpt = quoted(note["document"], name)
        assert (excerpt.first, excerpt.last) == (int(note["first"]), int(note["last"])), excerpt
        assert note["words"] in excerpt.text, f"{name}: {note['words']!r} is not in {excerpt.source} ~{excerpt.first}"
        assert op.seed == (note["document"], name)
    else:
        assert op.seed is None
        assert not row.sources.startswith("seed"), f"{name}: the notes have a seed operation for it"
    # The path.
    evidence = note["path"]
    printed = [(n, m, p) for n, m, p in (op.quote().printed() if op.quote() else []) if (m, p) == (op.method, op.path)]
    if endpoint.source == "seed":
        assert printed, f"{name} is tagged seed, but its operation's text prints no {op.method} {op.path}"
        [(line, method, _)] = printed
        assert evidence.startswith(f"{note['document']} ~{line} '{method} {PREFIX}"), evidence
    else:
        assert not printed, f"{name}: its operation prints the path, so it is seed, not {endpoint.source}"
        assert not printed_anywhere(op.method, op.path), f"{name}: a document prints {op.method} {op.path}"
    if endpoint.source == "public":
        named = named_sources(evidence)
        assert evidence.startswith("public ") and named, f"{name}: no public source named in {evidence!r}"
        assert named <= named_sources(row.sources), f"{name}: the notes list {row.sources!r}, not all of {named}"
    if endpoint.source == "inferred":
        assert evidence.startswith("inferred, "), evidence
        assert "path inferred" in row.sources, f"{name}: the notes say {row.sources!r}"
    assert endpoint.source in ("seed", "public", "inferred")
    # Placeholders: the operation's own required parameter, or the notes' path name for it.
    required = {n for n, p in op.params().items() if p.required}
    for placeholder in op.placeholders():
        assert placeholder in required or f"{{{placeholder}}}" in " ".join(row.paths), (name, placeholder)


def test_the_two_overstated_rows_are_public() -> None:
    """The issue's examples: 000 prints both operations (id + body) and neither path."""
    for name in ("employee.update", "voice_mail.update"):
        assert ENDPOINTS[name].source == "public"
        assert not printed_anywhere(ENDPOINTS[name].method, ENDPOINTS[name].path)
    assert "/join" not in quoted("000", "employee_group.update").text
    for legacy in ("employee_group.join", "employee_group.leave"):
        assert "2014" in notes_row("POST", ENDPOINTS[legacy].path).sources


# -- the checkers fail on broken fields ------------------------------------------------------------------------
TOKENS = frozenset({ADMIN_TOKEN})
GOOD = {"authorization": f"Bearer {ADMIN_TOKEN}", "accept": "application/json"}
JSON_BODY = {**GOOD, "content-type": "application/json"}


def _row(method: str, path: str, *, headers: Mapping[str, str] = GOOD, **extra: Any) -> dict[str, Any]:
    return {"method": method, "path": PREFIX + path, "query": {}, "body": None, "headers": dict(headers), **extra}


def _without(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


GOOD_REQUESTS = [
    _row("GET", "/employee"),
    _row("PUT", "/employee", headers=JSON_BODY, body={"employee": {"do_not_disturb": True, "dnd_timeout_at": None}}),
    _row("PUT", "/employees/2", headers=JSON_BODY, body={"employee": {"dnd_timeout_at": "2026-12-01T10:00:00Z"}}),
    _row("PUT", "/employee_groups/20", headers=JSON_BODY, body={"employee_group": {"employee_ids": [1, 2]}}),
    _row("POST", "/employee_groups/20/join"),
    _row("GET", "/calls", query={"ended_at_gt_or_eq": ["2026-12-01T09:00:00Z"], "limit": ["100"]}),
    _row("POST", "/switch/dial", headers=JSON_BODY, body={"to_number": "4571999999", "restrict_to": "mobile"}),
    _row("GET", "/voice_mails", query={"limit": ["50"], "created_at_lt_or_eq": ["2026-12-01T09:00:00+01:00"]}),
    _row("PUT", "/voice_mails/502", headers=JSON_BODY, body={"voice_mail": {"heard": True}}),
    _row("GET", "/voice_mails/502/sound"),
    _row(
        "GET",
        "/receptions/10/statistics",
        query={
            "answer_target": ["30"],
            "from_time": ["2026-12-01T00:00:00+01:00"],
            "to_time": ["2026-12-01T09:00:00Z"],
        },
    ),
    _row("GET", "/contacts", query={"number": ["4571999999"], "limit": ["100"], "id_gt_or_eq": ["101"]}),
]


def test_the_checker_passes_good_requests() -> None:
    for row in GOOD_REQUESTS:
        assert check_request(row, tokens=TOKENS)[1] == [], row


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (_row("GET", "/employees/me"), "is not an integer id"),
        (_row("GET", "/employee/1"), "no operation of the documents"),
        (_row("POST", "/calls", body={"to_number": "4571999999"}), "no operation of the documents"),
        (_row("GET", "/employees", headers=_without(GOOD, "authorization")), "not Bearer and a token"),
        (_row("GET", "/employees", headers={**GOOD, "authorization": "Token " + ADMIN_TOKEN}), "not Bearer"),
        (_row("GET", "/employees", headers=_without(GOOD, "accept")), "accept is None"),
        (_row("GET", "/employees", query={"page": ["2"]}), "undocumented query parameter 'page'"),
        (_row("GET", "/calls", query={"limit": ["500"]}), "500 is over 100"),
        (_row("GET", "/calls", query={"ended_at_gt_or_eq": ["yesterday"]}), "not an ISO 8601 time"),
        (_row("GET", "/voice_mails", query={"created_at_gt_or_eq": ["2026-12-01T09:00:00Z"]}), "undocumented query"),
        (_row("GET", "/contacts", query={"number": ["+4571999999"]}), "no number"),
        (_row("GET", "/contacts", query={"id_gt_or_eq": ["x"]}), "not an integer"),
        (_row("GET", "/receptions/10/statistics", query={"answer_target": ["30"]}), "required 'from_time' is missing"),
        (
            _row(
                "GET",
                "/receptions/10/statistics",
                query={"answer_target": ["30"], "from_time": ["x"], "to_time": ["y"]},
            ),
            "from_time: 'x' is not an ISO 8601 time",
        ),
        (_row("GET", "/receptions/10/statistics", query={"phase": ["night"]}), "not a comma list"),
        (_row("GET", "/employees", body={}), "a body {} where the documents have none"),
        (_row("POST", "/employee_groups/20/leave", body={"id": 20}), "where the documents have none"),
        (_row("PUT", "/employee", headers=JSON_BODY, body={"do_not_disturb": True}), "is not {'employee'"),
        (_row("PUT", "/employee", headers=JSON_BODY, body={"employee": {"dnd": True}}), "dnd: not in the documents"),
        (
            _row("PUT", "/employee", headers=JSON_BODY, body={"employee": {"do_not_disturb": "yes"}}),
            "'yes' is not bool",
        ),
        (
            _row("PUT", "/employees/2", headers=JSON_BODY, body={"employee": {"dnd_timeout_at": "in 45 minutes"}}),
            "not an ISO 8601 time",
        ),
        (_row("PUT", "/employee", body={"employee": {"do_not_disturb": True}}), "content-type is None"),
        (
            _row("PUT", "/employee_groups/20", headers=JSON_BODY, body={"employee_group": {"employee_ids": ["1"]}}),
            "'1' is not int",
        ),
        (
            _row("PUT", "/employee_groups/20", headers=JSON_BODY, body={"employee_group": {"members": [1]}}),
            "members: not in the documents",
        ),
        (_row("PUT", "/employee_groups/20", headers=JSON_BODY, body={"employee_ids": [1]}), "is not {'employee_group'"),
        (_row("POST", "/switch/dial", headers=JSON_BODY, body={"to_number": "+4571999999"}), "is no number"),
        (_row("POST", "/switch/dial", headers=JSON_BODY, body={"to_number": 4571999999}), "is not str"),
        (
            _row("POST", "/switch/dial", headers=JSON_BODY, body={"to_number": "4571999999", "restrict_to": "desk"}),
            "restrict_to: 'desk' is not one of",
        ),
        (_row("POST", "/switch/dial", headers=JSON_BODY, body={"number": "4571999999"}), "'to_number' is missing"),
        (
            _row("PUT", "/voice_mails/502", headers=JSON_BODY, body={"voice_mail": {"heard": "true"}}),
            "'true' is not bool",
        ),
        (_row("PUT", "/voice_mails/502", headers=JSON_BODY, body={"heard": True}), "is not {'voice_mail'"),
    ],
)
def test_the_checker_catches_bad_requests(row: dict[str, Any], problem: str) -> None:
    _, errors = check_request(row, tokens=TOKENS)
    assert any(problem in error for error in errors), errors


def _employees() -> dict[str, Any]:
    answer: dict[str, Any] = sample(OPERATIONS["employees"].answer().shape)  # type: ignore[union-attr]
    return answer


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e.pop("do_not_disturb"), "employees: missing 'do_not_disturb'"),
        (lambda e: e.update(presence="available"), "employees.presence: not in the documents"),
        (lambda e: e.update(id="7"), "employees.id: '7' is not int"),
        (lambda e: e.update(admin="true"), "'true' is not bool"),
        (lambda e: e.update(features=["mobile"]), "employees.features: ['mobile'] is not str"),
        (lambda e: e.update(employee_group_ids=20), "is not an array"),
        (lambda e: e.update(speed_dial={"digit": "1"}), "employees.speed_dial.digit: '1' is not int"),
        (lambda e: e.update(dnd_timeout_at="soon"), "employees.dnd_timeout_at: 'soon' is not an ISO 8601 time"),
        (lambda e: e.update(name=None), "employees.name: null where the documents show 'string'"),
        (lambda e: e.update(admin_abilities=[{"name": "x"}]), "employees.admin_abilities: missing 'enabled'"),
    ],
)
def test_the_checker_catches_bad_answers(change: Any, problem: str) -> None:
    answer = _employees()
    check = OPERATIONS["employees"].answer()
    assert check is not None and check.errors(answer) == []
    change(answer["employees"][0])
    errors = check.errors(answer)
    assert any(problem in error for error in errors), errors


# -- the adapter's requests ------------------------------------------------------------------------------------
async def exercise(adapter: RelatelAdapter, *, colleague: str, group: str, voicemail: str) -> None:
    """Every operation the adapter has, each the way phonebot uses it."""
    service = adapter.service_identity()  # the service token's owner, resolved by the first "me" call
    await adapter.get_presence(service)
    await adapter.get_presence(VendorIdentity(vendor="relatel", user_id=colleague))
    until = datetime.now(UTC) + timedelta(minutes=45)
    await adapter.set_presence(service, PresenceChange(activity="lunch", until=until))
    await adapter.set_presence(
        VendorIdentity(vendor="relatel", user_id=colleague), PresenceChange(activity="available")
    )
    await adapter.dial(service, "+45 71 99 99 99")
    await adapter.dial(service.model_copy(update={"dial_device": "mobile"}), "0045 71 99 99 99")
    await adapter.queue_status(service)
    await adapter.queue_login(service, group, logged_in=False)
    await adapter.queue_login(service, group, logged_in=True)
    await adapter.search_contacts(service, "71 99 99 99")
    await adapter.search_contacts(service, "relatel")
    await adapter.list_users(service)
    cursor = (await adapter.poll_alerts(None, now=datetime.now(UTC))).cursor
    await adapter.poll_alerts(cursor, now=datetime.now(UTC))
    await adapter.mark_voicemail_heard(service, voicemail)
    await adapter.voicemail_audio(voicemail)


def conforming(rows: list[dict[str, Any]], tokens: frozenset[str]) -> set[str]:
    covered: set[str] = set()
    for row in rows:
        name, errors = check_request(row, tokens=tokens)
        assert errors == [], f"{row['method']} {row['path']}: {errors}"
        assert name is not None
        covered.add(name)
    return covered


async def test_every_request_to_the_simulator_conforms(
    on_sim: RelatelAdapter, sim: RelatelSimulator, sim_server: LoopbackServer
) -> None:
    now = datetime.now(UTC)
    for second in range(101):  # more than a page of lost calls: the poll pages back with started_at_lt_or_eq
        sim.add_missed_call(f"45200{second:05d}", at=now - timedelta(seconds=90 - second / 2))
    own = sim.add_voicemail("4520000001", employee=2)
    bob = UserTokens(by_user={"2": SecretStr(BOB_TOKEN)})
    try:
        await exercise(on_sim, colleague="2", group="group:20", voicemail="502")
        await on_sim.voicemail_audio(str(own["id"]), owners=bob)  # Bob's mailbox, Bob's token
        sim.legacy_group_routes = True
        async for legacy in _adapter(sim_server, ADMIN_TOKEN):  # where Relatel still has the 2014 routes
            await legacy.queue_login(legacy.service_identity(), "group:21", logged_in=True)
            await legacy.queue_login(legacy.service_identity(), "group:21", logged_in=False)
    finally:  # a request the simulator refused is reported as the breach it is
        rows = recorded(sim_server)
        covered = conforming(rows, frozenset({ADMIN_TOKEN, BOB_TOKEN}))
    assert covered == set(OPERATIONS)
    assert any("started_at_lt_or_eq" in r["query"] for r in rows if r["path"].endswith("/calls"))
    assert any("id_gt_or_eq" in r["query"] for r in rows if r["path"].endswith("/contacts"))


async def test_every_request_to_the_documents_examples_conforms(
    on_doc: RelatelAdapter, doc_server: LoopbackServer
) -> None:
    """The same check behind a server answering only the documents' examples, so a lenient simulator hides nothing."""
    try:
        await exercise(on_doc, colleague="5", group="group:0", voicemail="0")  # leaves, then joins
        async for another in _adapter(doc_server, DOC_TOKEN):  # a new process's first login is a join
            await another.queue_login(another.service_identity(), "group:0", logged_in=True)
    finally:
        rows = recorded(doc_server)
        covered = conforming(rows, frozenset({DOC_TOKEN}))
    assert covered == set(OPERATIONS)
    legacy = [r["path"].rsplit("/", 1)[1] for r in rows if r["path"].endswith(("/join", "/leave"))]
    assert legacy == ["leave", "join"]  # once per process: its 404 sends every later login to the group update


# -- the adapter reads the documents' examples ------------------------------------------------------------------
async def test_the_adapter_reads_the_documents_examples(on_doc: RelatelAdapter, doc: DocumentServer) -> None:
    me = await on_doc.resolve_service_identity()
    assert (me.user_id, me.display_name) == ("0", "string")  # 000 ~215-241
    # do_not_disturb true until 2019-08-24 (000 ~143-144): long expired, so not DND; live_presence "available".
    expected = Presence(available=True, dnd=False, until=None, note=None)
    assert await on_doc.get_presence(VendorIdentity(vendor="relatel", user_id="5")) == expected
    assert await on_doc.set_presence(me, PresenceChange(activity="lunch")) == expected  # 000 ~245-271
    assert await on_doc.set_presence(me.model_copy(update={"user_id": "5"}), PresenceChange(activity="lunch")) == (
        expected  # 000 ~188-214
    )
    assert await on_doc.list_users(me) == [VendorUser(user_id="0", name="string", email=None, number=None)]
    relatel = Contact(id="contact:1", name="Relatel A/S", number="+4571999999", email="kundeservice@relatel.dk")
    assert await on_doc.search_contacts(me, "4571999999") == [relatel]  # 001 ~54-64
    assert await on_doc.search_contacts(me, "Relatel") == [relatel]
    reception, group = await on_doc.queue_status(me)
    assert (reception.group_id, reception.name, reception.calls_waiting) == ("reception:0", "string", 0)
    assert (reception.answered_today, reception.missed_today) == (0, 0)  # 000 ~325-336
    assert (group.group_id, group.agents_logged_in, group.agents_free, group.me_logged_in) == ("group:0", 1, 1, True)
    await on_doc.queue_login(me, "group:0", logged_in=False)
    assert doc.group["employee_ids"] == []
    await on_doc.queue_login(me, "group:0", logged_in=True)
    assert doc.group["employee_ids"] == [0]
    first = await on_doc.poll_alerts(None, now=datetime.now(UTC))
    again = await on_doc.poll_alerts(first.cursor, now=datetime.now(UTC))
    assert (first.events, again.events) == ([], [])  # a ringing call (000 ~612) and a heard voicemail (~397)
    audio = await on_doc.voicemail_audio("0")
    assert (audio.content, audio.media_type) == (AUDIO, "audio/mpeg")
    dialled = await on_doc.dial(me, "+4571999999")
    assert dialled.target == "4571999999"


def test_the_wire_parsers_read_the_documents_examples() -> None:
    for name in ("employees", "employee", "employee.update", "employee.me", "employee.me.update"):
        for example in quoted("000", name).examples().values():
            if example.get("employee") or example.get("employees"):
                raw = example["employees"][0] if "employees" in example else wire.unwrap_one(example, "employee")
                employee = wire.parse_employee(raw)
                assert (employee.id, employee.features, employee.live_presence) == ("0", ("mobile",), "available")
    for example in (group_example(), quoted("000", "employee_group.update").example(1)):
        assert wire.parse_group(wire.unwrap_one(example, "employee_group")).employee_ids == ("0",)
    assert wire.parse_statistics(quoted("000", "reception.statistics").example(0)) == (0, 0)
    for example in (quoted("000", "contacts").example(0), quoted("001", "contacts").example(0)):
        wire.parse_contact(wire.unwrap_list(example, "contacts")[0])
    [voicemail] = quoted("000", "voice_mails").example(0)["voice_mails"]
    assert wire.VoicemailRow.model_validate(voicemail).from_contact.name == "string"  # type: ignore[union-attr]
    for name in ("voice_mail", "voice_mail.update"):
        one = quoted("000", name).examples()
        bare = list(one.values())[-1]
        assert wire.text(wire.unwrap_one(bare, "voice_mail"), "endpoint") == "string"  # unwrapped, as 000 shows
        assert wire.text(wire.unwrap_one({"voice_mail": bare}, "voice_mail"), "endpoint") == "string"  # FF-DOCS
    [call] = sample(OPERATIONS["calls"].answer().shape)["calls"]  # type: ignore[union-attr]
    row = wire.CallRow.model_validate(call)
    assert (row.status, row.from_contact.name, row.answered_by.number) == ("ringing", "string", "string")  # type: ignore[union-attr]


def _read(model: type[Any]) -> set[str]:
    return set(model.model_fields)


def test_the_adapter_reads_only_documented_fields() -> None:
    """What the wire models read is 000's (or the notes' extras): none reads a field no document names."""
    [call] = quoted("000", "calls").example(0)["calls"]
    assert _read(wire.CallRow) <= set(call) | CALL_EXTRAS
    assert _read(wire.Party) <= set(call["from_contact"]) | set(call["answered_by"])
    assert "`endpoint`, `endpoint_name`, `state`, `node_type`" in " ".join(
        quoted("notes", "calls.filters").text.split()
    )
    assert _read(wire.CallNode) <= {"endpoint", "endpoint_name", "state", "node_type"}
    [voicemail] = quoted("000", "voice_mails").example(0)["voice_mails"]
    assert _read(wire.VoicemailRow) <= set(voicemail) | VOICEMAIL_EXTRAS
    assert "sound{formats, url}" in notes_row("GET", "/voice_mails").response
    assert _read(wire.Sound) <= {"url", "formats"}


# -- the simulator answers like the documents --------------------------------------------------------------------
def test_the_simulators_reads_have_the_documents_fields(sim: RelatelSimulator, sim_server: LoopbackServer) -> None:
    # Every kind of row the simulator makes: lost, answered and outgoing calls, voicemails of callers who are
    # contacts or not, on a reception's mailbox or a person's.
    sim.add_missed_call("4520000011", contact_name="Jens Jensen")
    sim.add_missed_call("4520000022", status="orphaned")
    sim.add_answered_call("4533000001", by=2)
    sim.add_callback("4520000011", by=1)
    sim.add_voicemail("4520000033", message=None)
    sim.add_voicemail("4533000001", employee=2, contact_name="Acme Corp")
    sim.set_dnd(2, True, until=datetime.now(UTC) + timedelta(hours=1))
    since = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    reads: list[tuple[str, str, dict[str, Any]]] = [
        ("employee.me", "/employee", {}),
        ("employees", "/employees", {}),
        ("employee", "/employees/2", {}),
        ("employee_groups", "/employee_groups", {}),
        ("calls", "/calls", {"limit": 100}),
        ("voice_mails", "/voice_mails", {"limit": 100}),
        ("voice_mail", "/voice_mails/502", {}),
        ("receptions", "/receptions", {}),
        (
            "reception.statistics",
            "/receptions/10/statistics",
            {"answer_target": 30, "from_time": since, "to_time": datetime.now(UTC).isoformat()},
        ),
        ("contacts", "/contacts", {"limit": 100}),
    ]
    for name, path, params in reads:
        answer = OPERATIONS[name].answer()
        assert answer is not None
        body = sim_get(sim_server, path, **params)
        assert answer.errors(body) == [], name
    statistics = sim_get(
        sim_server,
        "/receptions/10/statistics",
        answer_target=30,
        from_time=since,
        to_time=datetime.now(UTC).isoformat(),
    )
    assert statistics["statistics"]["missed"] >= 1


def test_the_simulators_writes_answer_like_the_documents(sim: RelatelSimulator, sim_server: LoopbackServer) -> None:
    """Each write sent as the document's own example body (or the fields its answer shows), answered as 000 shows."""
    url = sim_server.url + PREFIX
    dnd = {"employee": {"do_not_disturb": True, "dnd_timeout_at": "2030-08-24T14:15:22Z"}}
    group = {"employee_group": {"name": "Support team", "employee_ids": [1, 3]}}  # the create body's fields
    writes: list[tuple[str, str, str, Any, str]] = [
        ("employee.me.update", "PUT", "/employee", dnd, BOB_TOKEN),
        ("employee.update", "PUT", "/employees/2", dnd, ADMIN_TOKEN),
        ("employee_group.update", "PUT", "/employee_groups/20", group, ADMIN_TOKEN),
        ("voice_mail.update", "PUT", "/voice_mails/502", quoted("000", "voice_mail.update").example(0), ADMIN_TOKEN),
        ("switch.dial", "POST", "/switch/dial", {"to_number": "4571999999", "restrict_to": "web_call"}, BOB_TOKEN),
    ]
    for name, method, path, body, token in writes:
        rule, answer = body_rule(OPERATIONS[name]), OPERATIONS[name].answer()
        assert rule is not None and answer is not None
        assert rule.errors(body) == [], name
        response = httpx.request(method, url + path, json=body, headers=doc_headers(token))
        assert response.status_code == 200, (name, response.text)
        assert answer.errors(response.json()) == [], name
    assert sim.employee(2)["do_not_disturb"] is True and sim.employee(3)["employee_group_ids"] == [21, 20]
    assert sim.voicemails[502]["comment"] == "string" and sim.dials[-1].restrict_to == "web_call"
    # 000's own dial example prints the number as a JSON number (~662): the simulator accepts the example too.
    example = quoted("000", "switch.dial").example(0)
    assert httpx.post(url + "/switch/dial", json=example, headers=doc_headers(BOB_TOKEN)).status_code == 200


def test_the_simulator_refuses_what_the_documents_refuse(sim: RelatelSimulator, sim_server: LoopbackServer) -> None:
    url = sim_server.url + PREFIX
    # No token: 401 with the body the notes quote (~275-276).
    assert '`{"status":"failure","message":"401 Unauthorized"}`' in quoted("notes", "errors").text
    refused = httpx.get(url + "/employees", headers={"Accept": "application/json"})
    assert (refused.status_code, refused.json()) == (401, {"status": "failure", "message": "401 Unauthorized"})
    # "answer_target required", "from_time required", "to_time required" (000 ~321-323).
    assert (
        httpx.get(url + "/receptions/10/statistics", headers=doc_headers(), params={"answer_target": 30}).status_code
        == 422
    )
    # restrict_to 'Enum: "" "web_call" "mobile"' (000 ~660); numbers "without 00 or + prefix" (000 ~3).
    for bad in (
        {"to_number": "4571999999", "restrict_to": "desk"},
        {"to_number": "+4571999999"},
        {"to_number": "004571999999"},
    ):
        assert httpx.post(url + "/switch/dial", json=bad, headers=doc_headers(BOB_TOKEN)).status_code == 422, bad
    assert sim.dials == []
    # Others' membership needs an admin (notes ~48, FF-DOCS); a bare body is not the seed's {"employee_group": {}}.
    group = {"employee_group": {"employee_ids": [1]}}
    assert httpx.put(url + "/employee_groups/20", json=group, headers=doc_headers(BOB_TOKEN)).status_code == 403
    assert httpx.put(url + "/employee_groups/20", json={"employee_ids": [1]}, headers=doc_headers()).status_code == 422
    # The 2014 join/leave are in no 2.1.2 document.
    for action in ("join", "leave"):
        assert httpx.post(f"{url}/employee_groups/20/{action}", headers=doc_headers(BOB_TOKEN)).status_code == 404
    # "limit | integer <= 100 Default: 10" (000 ~471; 001 ~43 "default: 10, maximum: 100").
    assert len(sim_get(sim_server, "/contacts")["contacts"]) == 10
    assert len(sim_get(sim_server, "/contacts", limit=500)["contacts"]) == 100


def test_the_simulator_serves_the_sound_to_the_mailboxs_owner(
    sim: RelatelSimulator, sim_server: LoopbackServer
) -> None:
    """Notes ~171 'MP3 audio (Bearer auth)', `audio/mpeg`; ~46 "Only a number's own user may fetch ... recordings"."""
    assert "`audio/mpeg`" in notes_row("GET", "/voice_mails/{id}/sound").response
    own = sim.add_voicemail("4520000001", employee=2)
    sound = sim_server.url + PREFIX + f"/voice_mails/{own['id']}/sound"
    assert httpx.get(sound, headers=doc_headers(ADMIN_TOKEN)).status_code == 403
    answer = httpx.get(sound, headers=doc_headers(BOB_TOKEN))
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/mpeg"


# -- webhooks (the notes: ZALYE-WH2 and JENSEN; no Relatel document describes them) ---------------------------------
ENVELOPE = ("delivery_id", "event_type", "occurred_at", "payload")


def test_the_webhook_quotes_say_what_the_checks_assume() -> None:
    text = quoted("notes", "webhooks").text
    assert 'POST {"delivery_id", "event_type", "occurred_at", "payload"}' in text
    assert '`Relatel-Signature: t=<unix ts>,v1=<hex>` where `v1 = HMAC-SHA256(secret, "<t>.<raw body>")`' in text
    assert "`Relatel-Delivery-Id` is for dedupe" in text and "`webhook.test`" in text


def _signed(body: bytes, secret: str, at: int) -> str:
    """The notes' scheme, written here and not taken from the adapter."""
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def test_the_simulators_webhooks_are_the_notes(sim: RelatelSimulator) -> None:
    call = sample(OPERATIONS["calls"].answer().shape)["calls"][0]  # type: ignore[union-attr]
    body, headers = sim.webhook_request("call.ended", call, secret=WEBHOOK_SECRET)
    envelope = json.loads(body)
    assert tuple(envelope) == ENVELOPE and is_time(envelope["occurred_at"])
    found = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["Relatel-Signature"])
    assert found is not None
    assert headers["Relatel-Signature"] == _signed(body, WEBHOOK_SECRET, int(found.group(1)))
    assert headers["Relatel-Delivery-Id"] == envelope["delivery_id"]


async def test_the_adapter_takes_webhooks_signed_as_the_notes_say(on_sim: RelatelAdapter) -> None:
    now = int(time.time())
    test = json.dumps({"delivery_id": "d-1", "event_type": "webhook.test", "occurred_at": SAMPLE_TIME, "payload": {}})
    body = test.encode()
    on_sim.verify_webhook(body, {"Relatel-Signature": _signed(body, WEBHOOK_SECRET, now)})
    assert on_sim.parse_webhook(body, {}, path="") == []  # webhook.test: nothing to alert
    for forged in (_signed(body + b" ", WEBHOOK_SECRET, now), _signed(body, "another secret", now), ""):
        with pytest.raises(WebhookAuthError):
            on_sim.verify_webhook(body, {"Relatel-Signature": forged})
    # The payload is undocumented (notes ~249-250); the adapter reads a call.* payload as 000's call object.
    call = {**sample(OPERATIONS["calls"].answer().shape)["calls"][0], "status": "missed"}  # type: ignore[union-attr]
    ended = json.dumps({"delivery_id": "d-2", "event_type": "call.ended", "occurred_at": SAMPLE_TIME, "payload": call})
    [event] = on_sim.parse_webhook(ended.encode(), {}, path="")
    assert event.kind is AlertKind.LOST_CALL_OPENED
