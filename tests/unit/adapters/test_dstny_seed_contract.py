"""Dstny Core contract tests, written from the vendor document (004) and not from the adapter.

The document is ``shared/seeds/004_a09f6f90fa3ebf72.txt`` ("004"), a text render of the Dstny Core
User API Redoc page: operations, their parameters and example JSON, but only one path (the
call-back's example URLs) and no HTTP methods elsewhere. The parts phonebot relies on are quoted
verbatim in ``tests/fixtures/dstny/004_excerpts.txt``, one excerpt per operation the adapter uses,
each named after its row of ``adapters/dstny/paths.py`` and giving its lines; where 004 is silent
(headers, booleans, which paths public scripts print, the layout rule) the adapter notes
``shared/vendors/dstny.md`` are quoted in ``notes_excerpts.txt``. When ``shared/`` is reachable,
every excerpt is first checked line for line against its source.

What the checks know comes out of those quotes:

* **evidence** (issue 10 point 9): each row of the paths table names its 004 operation; its tag is
  ``seed`` exactly when that operation's own text prints the path, else ``public`` when the notes'
  table of confirmed paths lists it with a public script, else ``inferred`` (rule R);
* **requests** (point 13): the method (printed by 004 where it is: the call-back's ``POST`` URLs,
  "Both POST and PUT can be used"; elsewhere read from the operation's verb, see
  :data:`VERB_METHODS`), the path placeholders (004 parameters of the operation, all required),
  every query and body field (a parameter 004 lists for it, with its type, enumeration and format),
  every required parameter sent, a body only where 004 shows a request example, and the headers
  the notes quote ([D1]/[D2]: ``Authorization: Bearer``, ``Accept``/``Content-Type: application/json``);
* **answers**: 004's example JSON, read as shapes (:func:`shape_of`: fields, JSON types, and the
  enumerations 004 lists for them); a field some 004 example of an object omits is optional.

Readings of ours, stated where they are made: which of 004's parameters go in the query (the ones
the path does not carry) and which in a JSON body (those of an operation with a request example);
that the contact objects of the contact operations are one shape (:func:`contact_shape`); the few
fields public code reads that no 004 example shows (``id`` of a contact and of an ACD agent,
public:[P1]); ``isPlayed`` on a personal voicemail (:func:`commlog_list_shape`); fields the
simulator may leave out for calls that were not forwarded or taken (:data:`CALLLOG_ABSENT`).

The same contracts run on the requests :class:`DstnyAdapter` sends to the simulator (captured with
``GET /_sim/requests``, headers included) and to :class:`DocumentServer`, which answers only 004's
examples; on the adapter reading those examples; and on the simulator's answers. So neither the
adapter nor the simulator can drift from 004 unnoticed. ``test_the_checker_catches_*`` and
``test_the_evidence_check_catches_*`` show each check failing on a broken field.

The excerpt reader lives here (not in a shared module) for now; the Relatel and Multisender
contract tests have their own, and they can be unified.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.dstny.adapter import DstnyAdapter, DstnyConfig
from adapters.dstny.alerts import TAKEN_NOTE
from adapters.dstny.paths import AGENT_LOGIN, ENDPOINTS
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator
from adapters.errors import VendorAuthError, VendorRejected
from adapters.events import AlertKind
from adapters.http import Endpoint, RetryPolicy
from adapters.models import Activity, Contact, Presence, PresenceChange, QueueStatus, VendorIdentity
from adapters.simulation import LoopbackServer, SimulatorBase
from tests.contract_excerpts import Excerpt, load_excerpts, misquotes, shared_document

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests/fixtures/dstny"
SEED_NAME = "004_a09f6f90fa3ebf72.txt"
SEED_SHA256 = "dfaf8d6b1626a33280cca366a3c1bd2b99132f0ccd244460fde0026fd3c13ded"
FAST = RetryPolicy(attempts=1, base_delay=0.001, max_delay=0.001)
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


# -- the quoted documents ------------------------------------------------------------------------------
@cache
def excerpts() -> dict[str, Excerpt]:
    """Every excerpt of both fixture files, by name."""
    found: dict[str, Excerpt] = {}
    for path in (FIXTURES / "004_excerpts.txt", FIXTURES / "notes_excerpts.txt"):
        for name, excerpt in load_excerpts(path, Excerpt).items():
            assert name not in found, f"two excerpts named {name}"
            found[name] = excerpt
    return found


def quoted(name: str) -> Excerpt:
    return excerpts()[name]


def where(excerpt: Excerpt) -> str:
    return f"{excerpt.source} ~{excerpt.first}-{excerpt.last}"


@pytest.mark.parametrize("name", sorted(excerpts()))
def test_each_excerpt_is_verbatim_from_its_source(name: str) -> None:
    problems = misquotes([quoted(name)])
    if problems is None:
        pytest.skip(f"{quoted(name).source} is not beside this checkout")
    assert problems == [], f"{name} misquotes {where(quoted(name))}"


def test_the_seed_is_the_file_the_readme_names() -> None:
    path = shared_document(SEED_NAME)
    if path is None:
        pytest.skip("shared/seeds is not beside this checkout")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SEED_SHA256
    assert SEED_SHA256 in (FIXTURES / "README.md").read_text(encoding="utf-8")


# -- reading 004: parameters and examples ------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter as 004 renders it: ``name`` [``required``] ``|`` type, description ``|``."""

    name: str
    required: bool
    type: str
    description: str

    @property
    def choices(self) -> tuple[str, ...]:
        """``Enum: "a" "b"`` (or ``Items Enum:`` for an array) in the description."""
        found = re.search(r'Enum:((?: "[^"]*")+)', self.description)
        return tuple(re.findall(r'"([^"]*)"', found.group(1))) if found else ()

    @property
    def repeatable(self) -> bool:
        return self.type.startswith("Array of") or "can be repeated" in self.description


_NAME = re.compile(r"[A-Za-z][\w-]*")


def parameters(excerpt: Excerpt) -> dict[str, Param]:
    """The operation's parameters, in 004's order."""
    lines, found, i = excerpt.lines, {}, 0
    while i < len(lines):
        text = lines[i]
        optional = re.fullmatch(r"([A-Za-z][\w-]*) \|", text)
        if _NAME.fullmatch(text) and lines[i + 1 : i + 3] == ("required", "|"):
            name, required, j = text, True, i + 3
        elif optional:
            name, required, j = optional.group(1), False, i + 1
        else:
            i += 1
            continue
        description: list[str] = []
        k = j + 1
        while k < len(lines):
            description.append(lines[k])
            if lines[k].endswith("|"):
                break
            k += 1
        found[name] = Param(name, required, lines[j], " ".join(description).removesuffix("|").strip())
        i = k + 1
    return found


def _depth(line: str) -> int:
    """Brackets opened minus closed on ``line``, outside JSON strings."""
    depth, in_string, escaped = 0, False, False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


def redoc_json(lines: tuple[str, ...]) -> Any:
    """Redoc's rendering of an example (``{- "id": 35,`` ... ``}, - {``) back as JSON; nothing else changed."""
    text = "\n".join(lines)
    text = re.sub(r"(?m)^- ", "", text)
    text = re.sub(r"([{\[,]) - ", r"\1 ", text)
    text = re.sub(r"([{\[])- ", r"\1", text)
    return json.loads(text)


def examples(excerpt: Excerpt) -> dict[int, Any]:
    """The operation's example JSON by the line it starts on (a lone ``"string"`` is one too)."""
    lines, found, i = excerpt.lines, {}, 0
    while i < len(lines):
        if lines[i].startswith(("{", "[")):
            j, depth = i, _depth(lines[i])
            while depth > 0:
                j += 1
                depth += _depth(lines[j])
            found[excerpt.first + i] = redoc_json(lines[i : j + 1])
            i = j + 1
            continue
        if re.fullmatch(r'"[^"]*"', lines[i]):
            found[excerpt.first + i] = json.loads(lines[i])
        i += 1
    return found


def example(name: str, line: int) -> Any:
    """A copy of 004's example that starts on ``line`` of operation ``name``'s excerpt."""
    return copy.deepcopy(examples(quoted(name))[line])


#: 004 prints a method only for the call-back ("POST http://…") and the diversion set ("Both POST and PUT
#: can be used"); for the rest, the method is read from the operation's first word, as the notes (§5) do.
#: "To log in/log out" is POST: public:[P1] POSTs it (notes §4 #4).
VERB_METHODS = {
    "Get": "GET",
    "Read": "GET",
    "List": "GET",
    "Retrieve": "GET",
    "Retrieves": "GET",
    "Set": "PUT",
    "Sets": "PUT",
    "Update": "PUT",
    "Mark": "PUT",
    "Assign": "PUT",
    "To": "POST",
}


def document_methods(excerpt: Excerpt) -> frozenset[str]:
    """The methods 004 allows for the operation: printed where it prints them, else by its verb."""
    printed = set(re.findall(r"^(GET|PUT|POST|DELETE) https?://", excerpt.text, re.MULTILINE))
    both = re.search(r"Both (POST|PUT) and (POST|PUT) can be used", excerpt.text)
    if both:
        printed |= {both.group(1), both.group(2)}
    if printed:
        return frozenset(printed)
    return frozenset({VERB_METHODS[excerpt.lines[0].split()[0]]})


def printed_paths(excerpt: Excerpt) -> list[str]:
    """The request paths the operation's own text prints (from its example URLs), query left off."""
    return [re.sub(r"\?.*$", "", found) for found in re.findall(r"https?://[^/\s]+(/\S+)", excerpt.text)]


def template_regex(path: str) -> re.Pattern[str]:
    """A path template as a regex whose groups are its placeholders, in order."""
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("^" + "([^/]+)".join(re.escape(p) for p in parts) + "$")


def placeholders_of(path: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", path)


# -- shapes: what an example says about a value ------------------------------------------------------
@dataclass(frozen=True)
class Leaf:
    kind: type


@dataclass(frozen=True)
class Obj:
    fields: Mapping[str, Any]
    optional: frozenset[str] = frozenset()  # fields some 004 example of this object omits


@dataclass(frozen=True)
class Arr:
    item: Any  # None: 004 shows only empty arrays


@dataclass(frozen=True)
class Wrapped:
    """``{".TypeName": {...}}``: 004's Communication Log items, one key that is a dotted type name."""

    inner: Obj


def shape_of(value: Any) -> Any:
    """An example read as a shape; an array's items merged into one (see :func:`merge`)."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("."):
            inner = shape_of(next(iter(value.values())))
            assert isinstance(inner, Obj)
            return Wrapped(inner)
        return Obj({key: shape_of(item) for key, item in value.items()})
    if isinstance(value, list):
        shapes = [shape_of(item) for item in value]
        merged = shapes[0] if shapes else None
        for other in shapes[1:]:
            merged = merge(merged, other)
        return Arr(merged)
    return Leaf(bool if isinstance(value, bool) else type(value))


def merge(a: Any, b: Any) -> Any:
    """One shape for two examples of the same object: fields either has, those only one has optional."""
    if isinstance(a, Obj) and isinstance(b, Obj):
        fields = {**b.fields, **a.fields}
        for key in a.fields.keys() & b.fields.keys():
            fields[key] = merge(a.fields[key], b.fields[key])
        only_one = a.fields.keys() ^ b.fields.keys()
        return Obj(fields, frozenset(a.optional | b.optional | only_one))
    if isinstance(a, Arr) and isinstance(b, Arr):
        return Arr(b.item if a.item is None else a.item if b.item is None else merge(a.item, b.item))
    if isinstance(a, Wrapped) and isinstance(b, Wrapped):
        inner = merge(a.inner, b.inner)
        assert isinstance(inner, Obj)
        return Wrapped(inner)
    if isinstance(a, Leaf) and isinstance(b, Leaf):
        if a.kind is b.kind:
            return a
        if {a.kind, b.kind} == {int, float}:
            return Leaf(float)
    raise AssertionError(f"004's examples disagree: {a} / {b}")


def conforms(
    value: Any,
    shape: Any,
    *,
    where: str = "",
    absent_ok: frozenset[str] = frozenset(),
    extra_ok: frozenset[str] = frozenset(),
    choices: Mapping[str, tuple[str, ...]] | None = None,
) -> list[str]:
    """Every way ``value`` differs from 004's shape: fields missing or not in 004, types, enumerations.

    Paths name fields as ``groups[].statistic.numberOfCallsInQueue`` (``*`` for a dotted type name);
    ``absent_ok`` are fields that may be left out (or ``null``), ``extra_ok`` fields 004 shows no
    example of but another source names, ``choices`` 004's enumerations by path.
    """
    here = where or "(root)"

    def inner(item: Any, item_shape: Any, path: str) -> list[str]:
        return conforms(item, item_shape, where=path, absent_ok=absent_ok, extra_ok=extra_ok, choices=choices)

    if isinstance(shape, Obj):
        if not isinstance(value, dict):
            return [f"{here}: {value!r} is not an object"]
        errors: list[str] = []
        for key in shape.fields:
            path = f"{where}.{key}" if where else key
            if key not in value or value[key] is None:
                if key not in shape.optional and path not in absent_ok:
                    errors.append(f"{path}: missing" if key not in value else f"{path}: null where 004 has a value")
                continue
            errors += inner(value[key], shape.fields[key], path)
        for key in value.keys() - shape.fields.keys():
            path = f"{where}.{key}" if where else key
            if path not in extra_ok:
                errors.append(f"{path}: not in 004")
        return errors
    if isinstance(shape, Arr):
        if not isinstance(value, list):
            return [f"{here}: {value!r} is not an array"]
        if shape.item is None:
            return []
        return [e for item in value for e in inner(item, shape.item, f"{where}[]")]
    if isinstance(shape, Wrapped):
        dotted = [key for key in value if key.startswith(".")] if isinstance(value, dict) else []
        if not isinstance(value, dict) or len(value) != 1 or len(dotted) != 1:
            return [f"{here}: {value!r} is not one item wrapped in a '.TypeName' key"]
        return inner(value[dotted[0]], shape.inner, f"{where}.*")
    leaf: Leaf = shape
    numeric = leaf.kind is float and isinstance(value, int | float)
    if isinstance(value, bool) is not (leaf.kind is bool) or not (isinstance(value, leaf.kind) or numeric):
        return [f"{here}: {value!r} is not {leaf.kind.__name__}"]
    allowed = (choices or {}).get(where)
    if allowed and value not in allowed:
        return [f"{here}: {value!r} is not one of {allowed}"]
    return []


# -- what 004 says each operation is -----------------------------------------------------------------
def enum_of(name: str, param: str, *, without: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The values 004 enumerates for parameter ``param`` of operation ``name``."""
    return tuple(c for c in parameters(quoted(name))[param].choices if c not in without)


def contact_shape() -> Obj:
    """A contact as every contact example 004 quotes shows one (contact search ~4836, its add-contacts
    body and answer ~4889/~4922, contact information ~5915): a reading of ours that they are one object."""
    found: Any = None
    for name, line in (("contacts.list", 4836), ("contacts.add", 4889), ("contacts.add", 4922)):
        for item in example(name, line)["contact"]:
            found = shape_of(item) if found is None else merge(found, shape_of(item))
    merged = merge(found, shape_of(example("contact.info", 5915)))
    assert isinstance(merged, Obj)
    return merged


def calllog_item_choices(prefix: str) -> dict[str, tuple[str, ...]]:
    """itemType as the call-log operation enumerates it (less its filter word ALL), state as the assign does."""
    return {
        f"{prefix}itemType": enum_of("calllog", "itemType", without=("ALL",)),
        f"{prefix}handledStatus.state": enum_of("calllog.assign", "state"),
    }


def commlog_list_shape() -> Obj:
    """004's list example (~1620) holds calls only; a personal voicemail is read as one of those items
    plus ``isPlayed``: 004's "Mark … as seen and/or played" (~1522) and its one voicemail example, the
    group inbox's (~1749), show a played state. Which dotted type name wraps it 004 does not say."""
    shape = shape_of(example("commlog.list", 1620))
    wrapped = shape.fields["historyItems"].item
    inner = Obj({**wrapped.inner.fields, "isPlayed": Leaf(bool)}, wrapped.inner.optional | {"isPlayed"})
    return Obj({**shape.fields, "historyItems": Arr(Wrapped(inner))}, shape.optional)


@dataclass(frozen=True)
class Operation:
    """An operation the adapter uses, as 004 describes it (``name`` is its row in the paths table)."""

    name: str
    request_example: int | None = None  # 004's line of a JSON request body example
    answer_example: int | None = None  # 004's line of the answer example

    @property
    def excerpt(self) -> Excerpt:
        return quoted(self.name)

    @property
    def params(self) -> dict[str, Param]:
        return parameters(self.excerpt)

    @property
    def methods(self) -> frozenset[str]:
        return document_methods(self.excerpt)

    def answer(self) -> Any:
        """The answer's shape: 004's example, with the readings stated in this module's docstring."""
        if self.name == "contacts.list":
            return Obj({"query": Leaf(str), "contact": Arr(contact_shape())})
        if self.name == "contact.info":
            return contact_shape()
        if self.name == "commlog.list":
            return commlog_list_shape()
        assert self.answer_example is not None, f"004 shows no answer for {self.name}"
        return shape_of(example(self.name, self.answer_example))

    def choices(self) -> dict[str, tuple[str, ...]]:
        """004's enumerations for fields of the answer."""
        if self.name == "calllog":
            return calllog_item_choices("callLogItem[].")
        if self.name == "calllog.assign":
            return calllog_item_choices("")
        if self.name in ("commlog.list", "commlog.groupinbox"):
            return {"historyItems[].*.itemType": enum_of("commlog.list", "itemType")}
        return {}


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("presence.self", answer_example=8652),
        Operation("presence.self.activity"),
        Operation("presence.self.expires"),
        Operation("contact.info", answer_example=5915),
        Operation("contact.activity"),
        Operation("contact.expires"),
        Operation("activities", answer_example=8259),
        Operation("answerplaces", answer_example=8206),
        Operation("diversion.active", answer_example=7860),
        Operation("diversion.active.set", answer_example=7882),
        Operation("callback", answer_example=1369),
        Operation("acd.groups", answer_example=320),
        Operation("acd.agent", answer_example=513),
        Operation("acd.agent.deprecated", answer_example=549),
        Operation("queuestats.user", answer_example=1101),
        Operation("calllog", answer_example=661),
        Operation("calllog.assign", request_example=946, answer_example=949),
        Operation("commlog.list", answer_example=1620),
        Operation("commlog.groupinbox", answer_example=1738),
        Operation("commlog.mark"),
        Operation("contacts.list", answer_example=4836),
    )
}


def test_every_operation_the_adapter_uses_is_quoted_from_004() -> None:
    assert set(OPERATIONS) == set(ENDPOINTS)
    for op in OPERATIONS.values():
        assert op.excerpt.source == SEED_NAME and op.params, op.name
        for line in (op.request_example, op.answer_example):
            assert line is None or line in examples(op.excerpt), (op.name, line)


def test_the_quotes_read_as_the_checks_expect() -> None:
    """Spot checks of the readers on 004's text, so a parser bug cannot pass silently."""
    login = OPERATIONS["acd.agent"].params
    assert list(login) == ["domain", "group", "agent", "action"]
    assert login["action"].required and login["action"].choices == ("login", "logout")
    assert "including domain part" in login["agent"].description and login["group"].type == "integer <int64>"
    mark = ["itemId", "userId", "domain", "isSeen", "isPlayed", "updateCallItem"]
    assert list(OPERATIONS["commlog.mark"].params) == mark and all(
        p.required for p in OPERATIONS["commlog.mark"].params.values()
    )
    assert enum_of("calllog", "itemType") == ("ALL", "ANSWERED", "FORWARDED", "MISSED")
    assert OPERATIONS["calllog"].params["itemType"].repeatable and not OPERATIONS["calllog"].params["limit"].repeatable
    assert OPERATIONS["commlog.list"].params["itemType"].repeatable  # "This parameter can be repeated"
    assert printed_paths(quoted("callback"))[2] == "/api/calls/current/foo.com/alice/mobile/%2B468123456789"
    assert OPERATIONS["callback"].methods == {"POST"} and OPERATIONS["diversion.active.set"].methods == {"POST", "PUT"}
    assert OPERATIONS["commlog.mark"].methods == {"PUT"} and OPERATIONS["acd.groups"].methods == {"GET"}
    assert example("calllog.assign", 946) == {"state": "INPROGRESS", "note": "Wants to be called back on friday"}
    assert example("acd.agent", 513) == "string"
    groups = example("acd.groups", 320)["groups"]
    assert [g["id"] for g in groups] == [21, 5, 25] and groups[1]["agents"][0]["isLoggedIn"] is True
    assert contact_shape().optional >= {"email", "incall", "phonenumbers", "contactEntryId"}
    assert "presence" not in contact_shape().optional  # every contact 004 shows has one


# -- point 9: every row's tag against its evidence ---------------------------------------------------
_NOTE = re.compile(r"^004 ~(\d+)-(\d+) '(.+?)'; path: (seed|public:((?:\[P\d\],?)+)|rule R)(?=[\s;,]|$)")


@dataclass(frozen=True)
class PublicPath:
    method: str
    path: str
    sources: frozenset[str]


def public_paths() -> list[PublicPath]:
    """The notes' table of confirmed paths (dstny.md §4) whose source is a public script."""
    found = []
    for line in quoted("public_paths").lines:
        row = re.match(r"\| \S+ \| `(GET|PUT|POST|DELETE) (/[^`?]+)[^`]*` \| (.+) \|$", line)
        if row and "[P" in row.group(3):
            found.append(PublicPath(row.group(1), row.group(2), frozenset(re.findall(r"P\d", row.group(3)))))
    return found


def _same_template(a: str, b: str) -> bool:
    return re.sub(r"\{[^}]+\}", "{}", a) == re.sub(r"\{[^}]+\}", "{}", b)


def follows_rule_r(path: str) -> list[str]:
    """Rule R (dstny.md §4): ``/api/{area}[/{resource}][/v1]/{domain}/{…ids}[/{noun}]``, kebab-case nouns."""
    errors = []
    segments = path.strip("/").split("/")
    names = placeholders_of(path)
    if segments[0] != "api" or not names or names[0] != "domain":
        errors.append(f"{path} is not /api/{{area}}…/{{domain}}/…")
    for segment in segments[1:]:
        if not (segment.startswith("{") or re.fullmatch(r"[a-z]+(-[a-z]+)*|v1", segment)):
            errors.append(f"{path}: {segment!r} is no kebab-case noun")
    return errors


def evidence_errors(name: str, endpoint: Endpoint) -> list[str]:
    """Every way a row's tag or note overstates (or understates) what the quotes show."""
    found = _NOTE.match(endpoint.note)
    if found is None:
        return [f"{name}: the note does not start \"004 ~a-b '<operation>'; path: <evidence>\""]
    first, last, title, evidence, named = found.groups()
    excerpt = excerpts().get(name)
    if excerpt is None or (excerpt.first, excerpt.last) != (int(first), int(last)):
        return [f"{name}: no 004 excerpt {first}-{last} is quoted for it"]
    errors = []
    if not excerpt.lines[0].startswith(title):
        errors.append(f"{name}: 004 ~{first} is not {title!r}")
    params = parameters(excerpt)
    for placeholder in placeholders_of(endpoint.path):
        if placeholder not in params or not params[placeholder].required:
            errors.append(f"{name}: {{{placeholder}}} is no required parameter of 004 ~{first}")
    printed = any(template_regex(endpoint.path).match(path) for path in printed_paths(excerpt))
    listed = [p for p in public_paths() if p.method == endpoint.method and _same_template(p.path, endpoint.path)]
    strongest = "seed" if printed else "public" if listed else "inferred"
    if endpoint.source != strongest:
        why = {
            "seed": f"004's text for it ({where(excerpt)}) prints the path",
            "public": f"the notes list the path with public:{sorted(listed[0].sources) if listed else ''}",
            "inferred": f"neither 004's text for it ({where(excerpt)}) nor the notes' public table prints the path",
        }[strongest]
        errors.append(f"{name}: tagged {endpoint.source!r}, but {why}: it is {strongest!r}")
    wanted = {"seed": "seed", "public": "public", "inferred": "rule R"}.get(endpoint.source, "?")
    if not evidence.startswith(wanted):
        errors.append(f"{name}: tagged {endpoint.source!r} but its note gives 'path: {evidence}'")
    if endpoint.source == "public" and listed:
        unlisted = set(re.findall(r"P\d", named or "")) - listed[0].sources
        if unlisted:
            errors.append(f"{name}: the notes do not list the path with {sorted(unlisted)}")
    if endpoint.source == "inferred":
        errors += [f"{name}: {e}" for e in follows_rule_r(endpoint.path)]
    return errors


def test_the_notes_quote_rule_r_and_the_public_paths() -> None:
    assert '**Inferred layout rule ("rule R"):**' in quoted("public_paths").text
    assert {(p.method, p.path) for p in public_paths()} >= {
        ("GET", "/api/user/acd-attendant-group/v1/{domain}/{user}"),
        ("POST", "/api/user/acd-attendant-group/{domain}/{user}/{group}/{group-domain}/agents/{agent}"),
        ("GET", "/api/contacts/list/{domain}/{user}"),
    }


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_paths_row_carries_the_evidence_it_has(name: str) -> None:
    assert evidence_errors(name, ENDPOINTS[name]) == []


def test_only_the_call_back_path_is_printed_by_004() -> None:
    assert {n for n, e in ENDPOINTS.items() if e.source == "seed"} == {"callback"}
    assert {n for n, e in ENDPOINTS.items() if e.source == "public"} == {
        "acd.groups",
        "acd.agent.deprecated",
        "contacts.list",
    }


@pytest.mark.parametrize(
    ("name", "change", "problem"),
    [
        ("commlog.list", {"source": "seed"}, "tagged 'seed', but neither 004's text"),
        ("callback", {"source": "inferred"}, "tagged 'inferred', but 004's text for it"),
        ("acd.groups", {"source": "inferred"}, "tagged 'inferred', but the notes list the path"),
        ("presence.self", {"source": "public"}, "tagged 'public', but neither"),
        ("calllog", {"note": "notes 5.3; query itemType: seed"}, "does not start"),
        ("activities", {"note": "004 ~8191-8212 'Read mapping'; path: rule R"}, "no 004 excerpt 8191-8212"),
        ("answerplaces", {"note": "004 ~8191-8212 'Read the roles'; path: rule R"}, "is not 'Read the roles'"),
        ("contacts.list", {"note": ENDPOINTS["contacts.list"].note.replace("[P1]", "[P2]")}, "with ['P2']"),
        ("diversion.active", {"path": "/api/diversion/{domain}/{user}/active"}, "{user} is no required parameter"),
        ("commlog.mark", {"path": "/api/commLog/{domain}/{userId}/{itemId}"}, "no kebab-case noun"),
    ],
)
def test_the_evidence_check_catches_an_overstated_row(name: str, change: dict[str, str], problem: str) -> None:
    errors = evidence_errors(name, replace(ENDPOINTS[name], **change))  # type: ignore[arg-type]
    assert any(problem in error for error in errors), errors


# -- point 13: the requests ------------------------------------------------------------------------------
ISO_OR_NEVER = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z|never")


def test_the_header_and_boolean_rules_are_quoted() -> None:
    headers = quoted("headers").text
    assert "`Authorization: Bearer {token}` on every User API call ([D1], [D2])" in headers
    assert "both headers must be set to a suitable value on all requests" in headers
    assert "Booleans are lower-case `true`/`false` only ([D2])" in quoted("booleans").text


def value_errors(op: Operation, param: Param, value: str) -> list[str]:
    """``value`` against what 004 says of ``param`` (its type, enumeration and wording)."""
    where = f"{op.name}: {param.name}={value!r}"
    if param.choices and value not in param.choices:
        return [f"{where} is not one of {param.choices}"]
    if param.type == "boolean" and value not in ("true", "false"):
        return [f"{where} is not a lower-case boolean"]
    if param.type.startswith("integer") and not value.isdigit():
        return [f"{where} is not an integer"]
    if "including domain" in param.description and "@" not in value:
        return [f"{where} lacks the domain 004 asks for"]
    if param.name in ("user", "userId") and "@" in value:
        return [f"{where}: a bare user id, as in 004's example URL 'foo.com/alice' (~1333)"]
    # The contact operation's "expires string, or 'never'" (~6280) read as the user's own (~8760).
    if ("ISO-8601" in param.description or "'never'" in param.description) and not ISO_OR_NEVER.fullmatch(value):
        return [f"{where} is not ISO-8601 UTC or 'never'"]
    counted = re.search(r"ID (greater|smaller|is larger|is less)|amount|maximum number", param.description)
    if counted and not value.isdigit():
        return [f"{where} is not an item id or a count"]
    return []


def body_errors(op: Operation, body: Any) -> list[str]:
    if op.request_example is None:
        return [] if body is None else [f"{op.name}: a body, but 004 shows none for it"]
    if not isinstance(body, dict):
        return [f"{op.name}: the body {body!r} is not a JSON object (004 ~{op.request_example})"]
    shape = shape_of(example(op.name, op.request_example))
    errors = [
        f"{op.name}: body field {key!r} is no parameter of 004 {where(op.excerpt)}"
        for key in body
        if key not in op.params
    ]
    for key, value in body.items():
        if key in op.params and key in shape.fields:
            errors += [f"{op.name}: {e}" for e in conforms(value, shape.fields[key], where=key)]
            if op.params[key].choices and value not in op.params[key].choices:
                errors.append(f"{op.name}: {key}={value!r} is not one of {op.params[key].choices}")
    return errors


def identify(method: str, path: str) -> tuple[str | None, tuple[str, ...]]:
    """The operation a request is (by the paths table; the method picks between rows of one path)."""
    matches = [(name, m.groups()) for name, e in ENDPOINTS.items() if (m := template_regex(e.path).match(path))]
    if len(matches) > 1:
        matches = [(name, groups) for name, groups in matches if method in OPERATIONS[name].methods]
    return matches[0] if len(matches) == 1 else (None, ())


def check_request(row: Mapping[str, Any], *, token: str) -> tuple[str | None, list[str]]:
    """Which operation a captured request is, and every way it breaks 004 (empty when it conforms)."""
    name, values = identify(row["method"], row["path"])
    if name is None:
        return None, [f"{row['method']} {row['path']} is no operation of 004 that phonebot uses"]
    op = OPERATIONS[name]
    headers = {k.lower(): v for k, v in row["headers"].items()}
    errors: list[str] = []
    if headers.get("authorization") != f"Bearer {token}":
        errors.append(f"{name}: no 'Authorization: Bearer <ticket>' ([D1], [D2])")
    for header in ("accept", "content-type"):  # "both headers must be set to a suitable value on all requests"
        if headers.get(header, "").split(";")[0].strip().lower() != "application/json":
            errors.append(f"{name}: {header} is {headers.get(header)!r}, not application/json ([D2])")
    if row["method"] not in op.methods:
        errors.append(f"{name}: {row['method']}, but 004 {where(op.excerpt)} reads as {sorted(op.methods)}")
    in_path = dict(zip(placeholders_of(ENDPOINTS[name].path), (unquote(v) for v in values), strict=True))
    for placeholder, value in in_path.items():
        param = op.params.get(placeholder)
        if param is None or not param.required:
            errors.append(f"{name}: {{{placeholder}}} is no required parameter of 004 {where(op.excerpt)}")
        elif not value:
            errors.append(f"{name}: {{{placeholder}}} is empty")
        else:
            errors += value_errors(op, param, value)
    if name == "callback" and in_path["cid"].startswith("+") and "%2B" not in row["raw_path"]:
        errors.append("callback: the number is not URL-encoded, as in 004's example URL '…/%2B468123456789' (~1335)")
    for key, sent in row["query"].items():
        param = op.params.get(key)
        if param is None or key in in_path:
            errors.append(f"{name}: query parameter {key!r} is no query parameter of 004 {where(op.excerpt)}")
            continue
        if len(sent) > 1 and not param.repeatable:
            errors.append(f"{name}: {key} is sent {len(sent)} times; 004 does not let it repeat")
        for value in sent:
            errors += value_errors(op, param, value)
    errors += body_errors(op, row["body"])
    given = set(in_path) | set(row["query"]) | set(row["body"] if isinstance(row["body"], dict) else ())
    errors += [
        f"{name}: required {p!r} is not sent" for p, param in op.params.items() if param.required and p not in given
    ]
    return name, errors


# -- servers -----------------------------------------------------------------------------------------------
def recorded(server: LoopbackServer) -> list[dict[str, Any]]:
    answer = httpx.get(server.url + "/_sim/requests")
    answer.raise_for_status()
    rows = answer.json()
    assert isinstance(rows, list)
    return rows


@dataclass
class DocumentServer(SimulatorBase):
    """Answers every operation with 004's own example and nothing else, whatever the ids in the path.

    Operations 004 shows no JSON answer for get an empty 200. ``missing`` names operations this
    "installation" lacks (404); a test may change ``answers`` (e.g. an empty log first).
    """

    answers: dict[str, Any] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for name, op in OPERATIONS.items():
            if op.answer_example is not None:
                self.answers[name] = example(name, op.answer_example)

    def routes(self) -> list[BaseRoute]:
        async def endpoint(request: Request) -> Response:
            name, _ = identify(request.method, request.url.path)
            if name is None or name in self.missing:
                return PlainTextResponse("Not Found", status_code=404)
            if name not in self.answers:
                return Response(status_code=200)
            return JSONResponse(copy.deepcopy(self.answers[name]))

        return [Route("/{path:path}", endpoint, methods=["GET", "PUT", "POST", "DELETE"])]


@pytest.fixture(autouse=True)
def _fresh_login_memo() -> Iterator[None]:
    AGENT_LOGIN.forget()
    yield
    AGENT_LOGIN.forget()


@pytest.fixture
def doc() -> DocumentServer:
    return DocumentServer()


@pytest.fixture
def doc_server(doc: DocumentServer) -> Iterator[LoopbackServer]:
    with LoopbackServer(doc.build_app()) as running:
        yield running


#: 004's examples name the organisation example.org; the token is that of 004's ticket example (~8977).
DOC_DOMAIN, DOC_TOKEN = "example.org", "2343.ZSDjndiJSDjksHj"


@pytest.fixture
async def on_doc(doc_server: LoopbackServer) -> AsyncIterator[DstnyAdapter]:
    config = DstnyConfig(
        base_url=doc_server.url, token=DOC_TOKEN, domain=DOC_DOMAIN, user="svc", answer_place="softphone"
    )
    adapter = DstnyAdapter(config, retry=FAST)
    yield adapter
    await adapter.aclose()


@pytest.fixture
def sim() -> DstnySimulator:
    return DstnySimulator(clock=lambda: NOW)


@pytest.fixture
def sim_server(sim: DstnySimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture
async def on_sim(sim_server: LoopbackServer) -> AsyncIterator[DstnyAdapter]:
    config = DstnyConfig(base_url=sim_server.url, token=DEMO_TOKEN, domain="example.com", user="phonebot")
    adapter = DstnyAdapter(config, retry=FAST)
    yield adapter
    await adapter.aclose()


def conforming(rows: list[dict[str, Any]], *, token: str) -> set[str]:
    covered: set[str] = set()
    for row in rows:
        name, errors = check_request(row, token=token)
        assert errors == [], f"{row['method']} {row['raw_path']}?{row['query']}: {errors}"
        assert name is not None
        covered.add(name)
    return covered


def identity(user: str) -> VendorIdentity:
    return VendorIdentity(vendor="dstny", user_id=user)


async def test_every_request_to_the_simulator_conforms(
    on_sim: DstnyAdapter, sim: DstnySimulator, sim_server: LoopbackServer
) -> None:
    me, alice = identity("phonebot"), identity("alice")
    try:
        await on_sim.probe()
        await on_sim.get_presence(alice)
        await on_sim.set_presence(me, PresenceChange(activity="lunch", until=NOW + timedelta(minutes=45)))
        await on_sim.set_presence(alice, PresenceChange(activity="meeting"))
        await on_sim.dial(alice, "+4533000001")
        await on_sim.set_forwarding(alice, "+4533000001", until=None)
        await on_sim.get_forwarding(alice)
        await on_sim.queue_status(alice)
        await on_sim.queue_login(alice, "36", logged_in=True)
        AGENT_LOGIN.forget()
        sim.agent_login_forms = {"deprecated"}  # an installation without the current form
        await on_sim.queue_login(alice, "36", logged_in=False)
        await on_sim.find_user_by_email(alice, "carol@example.com")
        cursor = (await on_sim.poll_alerts(None, now=NOW)).cursor
        item = sim.miss_call(35, "+4540000001")
        voicemail = sim.leave_voicemail("+4540000002")
        sim.leave_voicemail("+4540000003", inbox="Support inbox")
        await on_sim.poll_alerts(cursor, now=NOW)
        await on_sim.claim_alert(alice, {"calllog_item_id": str(item.item_id)}, handled=False)
        await on_sim.mark_voicemail_heard(alice, str(voicemail.item_id))
    finally:  # a request the simulator refused is reported as the breach it is
        covered = conforming(recorded(sim_server), token=DEMO_TOKEN)
    assert covered == set(OPERATIONS)


async def test_every_request_to_the_documents_examples_conforms(
    on_doc: DstnyAdapter, doc: DocumentServer, doc_server: LoopbackServer
) -> None:
    """The same check behind a server that answers only 004's examples, so a lenient simulator hides nothing."""
    me, alice = identity("svc"), identity("alice")
    try:
        await on_doc.probe()
        await on_doc.set_presence(me, PresenceChange(activity="lunch", until=NOW + timedelta(minutes=45)))
        with pytest.raises(VendorAuthError):  # the read-back: 004's contact example hides its presence
            await on_doc.set_presence(alice, PresenceChange(activity="meeting"))
        with pytest.raises(VendorRejected):  # 004's call-back answer is a refusal (user.does.not.exist)
            await on_doc.dial(alice, "+468123456789")
        # /presence forward sets "away" first: a fourth activity shaped like 004's three (~8259).
        away = {"id": "away", "name": "Away", "available": False, "default": False, "stateName": "Away"}
        doc.answers["activities"]["activity"].append(away)
        await on_doc.set_forwarding(me, "+14423455", until=None)
        await on_doc.queue_status(alice)
        await on_doc.queue_login(alice, "21", logged_in=True)
        AGENT_LOGIN.forget()
        doc.missing = {"acd.agent"}
        await on_doc.queue_login(alice, "21", logged_in=False)
        await on_doc.find_user_by_email(alice, "jack@example.org")
        cursor = (await on_doc.poll_alerts(None, now=NOW)).cursor
        await on_doc.poll_alerts(cursor, now=NOW)
        await on_doc.claim_alert(alice, {"calllog_item_id": "15"}, handled=True)
        await on_doc.mark_voicemail_heard(alice, "370")
    finally:
        covered = conforming(recorded(doc_server), token=DOC_TOKEN)
    assert covered == set(OPERATIONS)
    [assign] = [r for r in recorded(doc_server) if r["method"] == "PUT" and "/calllog/" in r["path"]]
    assert set(assign["body"]) == set(example("calllog.assign", 946))  # state and note, as 004's example


def _row(
    method: str,
    path: str,
    *,
    query: dict[str, list[str]] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw_path: str | None = None,
) -> dict[str, Any]:
    good = {"Authorization": f"Bearer {DEMO_TOKEN}", **JSON_HEADERS}
    return {
        "method": method,
        "path": path,
        "raw_path": raw_path or path,
        "query": query or {},
        "body": body,
        "headers": good if headers is None else headers,
    }


CALLLOG = "/api/user/distribution-group/example.com/phonebot/calllog"
ASSIGN = CALLLOG + "/15"
MARK = "/api/commlog/example.com/phonebot/370"
MARK_QUERY = {"isSeen": ["true"], "isPlayed": ["true"], "updateCallItem": ["true"]}
ACTIVITY = "/api/contacts/info/v1/example.com/alice@example.com/presence/activity"
CALLBACK = "/api/calls/current/foo.com/alice/mobile/+468123456789"
BEARER = {"Authorization": f"Bearer {DEMO_TOKEN}"}
GOOD_ROWS = [
    _row("GET", CALLLOG, query={"itemType": ["MISSED", "ANSWERED"], "since": ["14"], "limit": ["100"]}),
    _row("PUT", ASSIGN, body={"state": "INPROGRESS", "note": "Wants to be called back on friday"}),
    _row("PUT", MARK, query=MARK_QUERY),
    _row("PUT", ACTIVITY, query={"activity": ["lunch"]}),
    _row("PUT", ACTIVITY + "/expires", query={"expires": ["2026-12-01T09:45:00Z"]}),
    _row("POST", CALLBACK, raw_path=CALLBACK.replace("+", "%2B")),
    _row("POST", "/api/diversion/example.com/alice/active", query={"phoneNumber": ["+14423455"]}),
]


def test_the_checker_passes_good_requests() -> None:
    for row in GOOD_ROWS:
        assert check_request(row, token=DEMO_TOKEN)[1] == [], row


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (_row("GET", CALLLOG, headers={**BEARER, "Content-Type": "application/json"}), "accept is None"),
        (_row("GET", CALLLOG, headers={**BEARER, "Accept": "application/json"}), "content-type is None"),
        (_row("GET", CALLLOG, headers={"Authorization": f"Token {DEMO_TOKEN}", **JSON_HEADERS}), "Bearer"),
        (
            _row("GET", CALLLOG, query={"itemType": ["LOST"]}),
            "is not one of ('ALL', 'ANSWERED', 'FORWARDED', 'MISSED')",
        ),
        (_row("GET", CALLLOG, query={"order": ["desc"]}), "'order' is no query parameter"),
        (_row("GET", CALLLOG, query={"limit": ["100", "50"]}), "does not let it repeat"),
        (_row("GET", CALLLOG, query={"since": ["yesterday"]}), "is not an item id"),
        (_row("GET", CALLLOG, body={"itemType": "MISSED"}), "004 shows none"),
        (_row("POST", CALLLOG), "reads as ['GET']"),
        (_row("PUT", ASSIGN, body={"state": "DONE"}), "'DONE' is not one of ('UNHANDLED', 'INPROGRESS', 'HANDLED')"),
        (_row("PUT", ASSIGN, body={"state": "HANDLED", "owner": "alice"}), "'owner' is no parameter"),
        (_row("PUT", ASSIGN, body={"state": "HANDLED", "note": 7}), "note: 7 is not str"),
        (_row("PUT", ASSIGN, query={"state": ["HANDLED"]}), "is not a JSON object"),
        (_row("PUT", CALLLOG + "/first", body={"state": "HANDLED"}), "itemid='first' is not an integer"),
        (_row("PUT", MARK, query={"isSeen": ["true"], "isPlayed": ["true"]}), "required 'updateCallItem' is not sent"),
        (_row("PUT", MARK, query={**MARK_QUERY, "isSeen": ["True"]}), "is not a lower-case boolean"),
        (
            _row("PUT", ACTIVITY.replace("alice@example.com", "alice"), query={"activity": ["lunch"]}),
            "lacks the domain",
        ),
        (_row("PUT", ACTIVITY, query={"available": ["false"]}), "required 'activity' is not sent"),
        (_row("PUT", ACTIVITY + "/expires", query={"expires": ["in 45 minutes"]}), "not ISO-8601"),
        (_row("POST", CALLBACK), "not URL-encoded"),
        (
            _row("POST", "/api/acd-attendant-group/v1/example.com/36/agents/a@example.com", query={"action": ["join"]}),
            "is not one of ('login', 'logout')",
        ),
        (_row("POST", "/api/acd-attendant-group/v1/example.com/36/agents/alice"), "lacks the domain"),
        (_row("GET", "/api/userinfo/presence/example.com/alice@example.com"), "a bare user id"),
        (_row("GET", "/api/presence/example.com/alice"), "is no operation of 004"),
    ],
)
def test_the_checker_catches_bad_requests(row: dict[str, Any], problem: str) -> None:
    _, errors = check_request(row, token=DEMO_TOKEN)
    assert any(problem in error for error in errors), errors


# -- point 13: the adapter reads 004's own examples ----------------------------------------------------------
async def test_the_adapter_reads_the_documents_presence_and_activities(on_doc: DstnyAdapter) -> None:
    """004 ~8259 (activities) and ~8652 (the accessing user's presence); ~5915: a contact whose presence
    004 shows with activityAccess NONE and no activity is one phonebot may not see."""
    assert await on_doc.list_activities(identity("svc")) == [
        Activity(id="available", name="Available", available=True),
        Activity(id="lunch", name="Lunch", available=False),
        Activity(id="meeting", name="Meeting", available=False),
    ]
    assert await on_doc.get_presence(identity("svc")) == Presence(
        available=True,
        activity=Activity(id="working", name="working", available=True),  # not among ~8259's activities
        dnd=False,
        until=datetime(2020, 9, 21, 11, 5, tzinfo=UTC),
        note="Planning our upgrade",
    )
    with pytest.raises(VendorAuthError):
        await on_doc.get_presence(identity("alice"))


async def test_the_adapter_reads_the_documents_call_back_examples(on_doc: DstnyAdapter, doc: DocumentServer) -> None:
    """~8206: the one answer place is "mobile" (not the configured "softphone"); ~1369: the answer is a
    validation result, here a refusal, worded by phonebot and never with 004's description text."""
    assert await on_doc.answer_place_of(identity("alice")) == "mobile"
    with pytest.raises(VendorRejected) as refused:
        await on_doc.dial(identity("alice"), "+468123456789")
    assert "the linked Dstny user doesn't exist" in str(refused.value) and "string" not in str(refused.value)
    accepted = example("callback", 1369)
    accepted["field"] = []  # the same answer with no field errors: a call placed, its generated id kept
    doc.answers["callback"] = accepted
    result = await on_doc.dial(identity("alice"), "+468123456789")
    assert (result.target, result.reference) == ("+468123456789", "string")


async def test_the_adapter_reads_the_documents_diversion_example(on_doc: DstnyAdapter) -> None:
    assert await on_doc.get_forwarding(identity("alice")) == "+14423455"  # 004 ~7860


async def test_the_adapter_reads_the_documents_queue_examples(on_doc: DstnyAdapter, doc: DocumentServer) -> None:
    """~320: three groups with login state and statistics; ~1101: a Supervisor row, matched by id and domain."""
    doc.answers["queuestats.user"]["queue"][0].update(id=5, domain=DOC_DOMAIN)  # 004's is 67899 of test.com
    assert await on_doc.queue_status(identity("alice")) == [
        QueueStatus(
            group_id="21", name="Acd group 1", calls_waiting=0, agents_logged_in=0, agents_free=0, me_logged_in=False
        ),
        QueueStatus(
            group_id="5",
            name="TestAttendantGroup",
            calls_waiting=0,
            longest_wait_seconds=20,
            agents_logged_in=1,
            agents_free=1,
            answered_today=38,
            missed_today=4,
            me_logged_in=True,
        ),
        QueueStatus(
            group_id="25", name="Acd group 2", calls_waiting=0, agents_logged_in=2, agents_free=1, me_logged_in=False
        ),
    ]


async def test_the_adapter_reads_the_documents_contact_examples(on_doc: DstnyAdapter, doc: DocumentServer) -> None:
    """~4836: a shortcut (no ``id`` in 004's example: its contactEntryId names it); it is no colleague."""
    assert await on_doc.search_contacts(identity("alice"), "ali") == [
        Contact(id="Y29udGFjdElkQGV4YW1wbGUub3JnQGRpcmVjdG9yeQ", name="Alice Alisson", number="+1234567")
    ]
    assert await on_doc.list_users(identity("alice")) == []
    # ~4922: a directory contact, but 004 shows it without an id, so phonebot cannot say which user it is.
    doc.answers["contacts.list"] = example("contacts.add", 4922)
    assert await on_doc.list_users(identity("alice")) == []
    doc.answers["contacts.list"]["contact"][0]["id"] = "jack@example.org"  # the id public:[P1] reads
    [jack] = await on_doc.list_users(identity("alice"))
    assert (jack.user_id, jack.name, jack.number) == ("jack", "Jack Jackson", "+1231231")


async def test_the_adapter_reads_the_documents_call_log_and_inbox_examples(
    on_doc: DstnyAdapter, doc: DocumentServer
) -> None:
    """~661 (the group call log), ~1620 (calls only) and ~1738 (a group-inbox voicemail), after an empty start."""
    as_in_004 = {name: doc.answers[name] for name in ("calllog", "commlog.list", "commlog.groupinbox")}
    for name, answer in as_in_004.items():
        doc.answers[name] = {**answer, "callLogItem" if name == "calllog" else "historyItems": []}
    cursor = (await on_doc.poll_alerts(None, now=NOW)).cursor
    doc.answers.update(as_in_004)
    answered = await on_doc.poll_alerts(cursor, now=NOW)  # 004's call-log item is ANSWERED: no lost call
    [voicemail] = answered.events
    assert voicemail.kind == AlertKind.VOICEMAIL_NEW  # isPlayed false (~1749); the calls (~1620) are no voicemail
    assert (voicemail.caller_number, voicemail.caller_name) == ("+1555123001", "Jane Doe")
    assert (voicemail.mailbox, voicemail.occurred_at) == (
        "Group Inbox 1",
        datetime(2020, 1, 30, 17, 11, 13, tzinfo=UTC),
    )

    item = doc.answers["calllog"]["callLogItem"][0]
    item.update(itemType="MISSED", itemId=16)  # the same item as another of 004's types (~649), a new id
    [lost] = (await on_doc.poll_alerts(answered.cursor, now=NOW)).events
    assert lost.kind == AlertKind.LOST_CALL_OPENED
    assert (lost.caller_number, lost.attempts, lost.group_id) == ("+46887654321", 35, "35")
    assert (lost.occurred_at, lost.detail["calllog_item_id"]) == (datetime(2018, 5, 26, 13, 0, 30, tzinfo=UTC), "16")


async def test_the_adapter_claims_and_marks_as_004_shows(on_doc: DstnyAdapter, doc_server: LoopbackServer) -> None:
    await on_doc.claim_alert(identity("alice"), {"calllog_item_id": "15"}, handled=False)
    await on_doc.mark_voicemail_heard(identity("alice"), "370")
    assign, mark = recorded(doc_server)
    assert assign["body"] == {"state": "INPROGRESS", "note": TAKEN_NOTE}
    assert (mark["path"], mark["query"]) == (f"/api/commlog/{DOC_DOMAIN}/svc/370", MARK_QUERY)


# -- point 13: the simulator answers like 004 --------------------------------------------------------------------
#: Fields the simulator may leave out of a call-log item, each with why (004's one item has them all).
CALLLOG_ABSENT = {
    "agent": "no agent took a missed call",
    "forwardedTo": "the call was not forwarded",
    "forwardReason": "the call was not forwarded",
    "handledStatus.agent": "nobody took the item yet",
    "handledStatus.timeStamp": "nobody took the item yet",
    "handledStatus.note": "no note was written",
    "handledStatus.agent.number": "the service user has no number",
}
#: A Communication Log caller nobody named has no display name (ours: 004's examples all have one).
UNNAMED = frozenset({"historyItems[].*.remoteParty.displayName"})
#: Fields 004's examples don't show that public code reads from the real API.
PUBLIC_FIELDS = {
    "acd.groups": {"groups[].agents[].id": "public:[P1] reads .groups.agents.id"},
    "contacts.list": {"contact[].id": "public:[P1] reads ($Contacts.contact | Where-Object email -eq …).id"},
}


def absent(prefix: str) -> frozenset[str]:
    return frozenset(prefix + path for path in CALLLOG_ABSENT)


ABSENT_OK = {
    "calllog": absent("callLogItem[]."),
    "calllog.assign": absent(""),
    "commlog.list": UNNAMED,
    "commlog.groupinbox": UNNAMED,
}


def sim_call(server: LoopbackServer, method: str, path: str, **kwargs: Any) -> Any:
    answer = httpx.request(method, server.url + path, headers={**BEARER, **JSON_HEADERS}, **kwargs)
    assert answer.status_code == 200, (path, answer.status_code, answer.text)
    return answer.json()


def answer_errors(name: str, value: Any, *, absent_ok: frozenset[str] | None = None) -> list[str]:
    op = OPERATIONS[name]
    extra = frozenset(PUBLIC_FIELDS.get(name, {}))
    allowed = ABSENT_OK.get(name, frozenset()) if absent_ok is None else absent_ok
    return conforms(value, op.answer(), choices=op.choices(), extra_ok=extra, absent_ok=allowed)


def test_the_simulators_answers_have_the_documents_fields(sim: DstnySimulator, sim_server: LoopbackServer) -> None:
    item = sim.miss_call(35, "+4540000001")
    sim.miss_call(35, "+4540000001")
    sim.answer_call(35, "+4540000009", agent="alice")
    sim.handle_call(item.item_id, "bob", note="Called back")
    sim.leave_voicemail("+4540000002", name="Jens Jensen")
    sim.leave_voicemail("+4540000003")
    sim.leave_voicemail("+4540000004", name="Pat", inbox="Support inbox")
    deprecated = "/api/user/acd-attendant-group/example.com/phonebot/36/example.com/agents/alice@example.com"
    reads: dict[str, tuple[str, str, dict[str, Any]]] = {
        "presence.self": ("GET", "/api/userinfo/presence/example.com/phonebot", {}),
        "contact.info": ("GET", "/api/contacts/info/v1/example.com/alice@example.com", {}),
        "activities": ("GET", "/api/configuration/example.com/phonebot/activities", {}),
        "answerplaces": ("GET", "/api/configuration/example.com/alice/answerplaces", {}),
        "diversion.active.set": (
            "PUT",
            "/api/diversion/example.com/alice/active",
            {"params": {"phoneNumber": "+1442"}},
        ),
        "diversion.active": ("GET", "/api/diversion/example.com/alice/active", {}),
        "callback": ("POST", "/api/calls/current/example.com/alice/mobile/%2B4533000001", {}),
        "acd.groups": ("GET", "/api/user/acd-attendant-group/v1/example.com/alice", {}),
        "acd.agent": (
            "POST",
            "/api/acd-attendant-group/v1/example.com/36/agents/alice@example.com",
            {"params": {"action": "login"}},
        ),
        "acd.agent.deprecated": ("POST", deprecated, {"params": {"action": "logout"}}),
        "queuestats.user": ("GET", "/api/queuestatistics/user/example.com/phonebot", {}),
        "calllog": ("GET", CALLLOG, {"params": [("itemType", "MISSED"), ("itemType", "ANSWERED")]}),
        "calllog.assign": ("PUT", f"{CALLLOG}/{item.item_id}", {"json": example("calllog.assign", 946)}),
        "commlog.list": ("GET", "/api/commlog/example.com/phonebot", {"params": {"itemType": "VOICEMAIL"}}),
        "commlog.groupinbox": ("GET", "/api/commlog/example.com/phonebot/groupinbox", {}),
        "contacts.list": ("GET", "/api/contacts/list/example.com/phonebot", {}),  # favourites: users and a shortcut
    }
    assert set(reads) == {name for name, op in OPERATIONS.items() if op.answer_example is not None}
    problems = {
        name: answer_errors(name, sim_call(sim_server, method, path, **kw))
        for name, (method, path, kw) in reads.items()
    }
    assert problems == {key: [] for key in reads}
    searched = sim_call(sim_server, "GET", "/api/contacts/list/example.com/phonebot", params={"query": "jensen"})
    assert len(searched["contact"]) == 2 and answer_errors("contacts.list", searched) == []
    # "Whether agents/statistics shall be included" (~316-321): asked to leave them out, the simulator does.
    lean = sim_call(
        sim_server,
        "GET",
        "/api/user/acd-attendant-group/v1/example.com/alice",
        params={"ignoreAgents": "true", "ignoreStatistics": "true"},
    )
    assert answer_errors("acd.groups", lean, absent_ok=frozenset({"groups[].agents", "groups[].statistic"})) == []
    assert all("agents" not in g and "statistic" not in g for g in lean["groups"])


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda a: a.pop("hintCount"), "hintCount: missing"),
        (
            lambda a: a["callLogItem"][0].update(itemType="LOST"),
            "'LOST' is not one of ('ANSWERED', 'FORWARDED', 'MISSED')",
        ),
        (lambda a: a["callLogItem"][0]["handledStatus"].update(state="DONE"), "('UNHANDLED', 'INPROGRESS', 'HANDLED')"),
        (lambda a: a["callLogItem"][0].update(callCount="35"), "callLogItem[].callCount: '35' is not int"),
        (lambda a: a["callLogItem"][0].update(owner="alice"), "callLogItem[].owner: not in 004"),
        (lambda a: a["callLogItem"][0].update(noteIncluded=1), "noteIncluded: 1 is not bool"),
        (lambda a: a["callLogItem"][0].pop("callerNumber"), "callLogItem[].callerNumber: missing"),
        (lambda a: a["callLogItem"][0].update(itemId=None), "callLogItem[].itemId: null where 004 has a value"),
        (lambda a: a.update(callLogItem={"15": {}}), "is not an array"),
    ],
)
def test_the_checker_catches_bad_answers(change: Any, problem: str) -> None:
    answer = example("calllog", 661)
    assert answer_errors("calllog", answer) == []
    change(answer)
    errors = answer_errors("calllog", answer)
    assert any(problem in error for error in errors), errors


def test_the_checker_reads_wrapped_items_and_optional_fields() -> None:
    listed = example("commlog.list", 1620)
    assert answer_errors("commlog.list", listed) == []
    call = listed["historyItems"][0][".CallDTO"]
    listed["historyItems"].append({".VoiceMailDTO": {**call, "itemType": "VOICEMAIL", "isPlayed": False}})
    assert answer_errors("commlog.list", listed) == []
    listed["historyItems"].append({".CallDTO": {**call}, ".Other": {}})
    assert any("wrapped in a '.TypeName' key" in e for e in answer_errors("commlog.list", listed))
    inbox = example("commlog.groupinbox", 1738)
    inbox["historyItems"][0][".GroupInboxVoiceMailDTO"]["duration"] = 20
    assert answer_errors("commlog.groupinbox", inbox) == ["historyItems[].*.duration: not in 004"]
    shortcut = example("contacts.list", 4836)["contact"][0]
    assert conforms(shortcut, contact_shape()) == []
    assert conforms({k: v for k, v in shortcut.items() if k != "contactEntryId"}, contact_shape()) == []
    assert conforms({k: v for k, v in shortcut.items() if k != "presence"}, contact_shape()) == ["presence: missing"]
    own = example("presence.self", 8652)
    assert answer_errors("presence.self", {**own, "role": "business"}) == ["role: not in 004"]
