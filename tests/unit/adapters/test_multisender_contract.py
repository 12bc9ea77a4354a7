"""Multisender contract tests, written from the vendor's document and not from the adapter.

The document is ``shared/seeds/002_dc1da26ac487815e.txt`` ("002"), a text render of
``http://api.multisender.net/apidoc``. The parts phonebot relies on are quoted verbatim in
``tests/fixtures/multisender/002_excerpts.txt`` (see its README), one excerpt per operation, each
naming the seed file and its lines; when ``shared/`` is reachable the quotes are checked against the
seed first, so the suite runs on a clean clone and a misquote still fails.

Everything the checks know comes out of those quotes: the operations' token headers and parameter
tables, the "Used in the URL like" hints, the REST rule (~1-9), the header rule (~10-16) and the
example bodies. 002 writes its examples as single-quoted JSON whose values are type hints
(``'acceptsWanted': 'int'``, ``'state': 'waitingToActive, active, halt or complete'``);
:func:`shape_of` reads each hint as a type, an enumeration or a format, and :func:`instance` makes
the example a value (``'int'`` -> 1, the first choice of an enumeration, ...). Where 002 leaves a
gap, the reading is ours and is stated where it is made: the ``/v1`` prefix (from the
``/vi/accounts`` typo, ~26); the token goes in ``X-Access-Token`` (the auth section) *and* in the
header the operation's own table names (``X-Authentication-Token`` on the update); an unset field may
be ``null`` when the create table marks it optional, as may ``latestCallAt`` of a receiver not called
yet (002 prints no value for either); ``meta`` is the client's own object ("passed, as is"); a
click-to-call's receiver webhook is the Receiver Webhook (~267 "More info in the Receiver Webhook
section").

The same contracts run three ways: on the requests :class:`MultisenderAdapter` sends to the simulator
(captured through ``GET /_sim/requests``, headers included) and to :class:`DocumentServer`, which
answers only the document's examples; on the simulator's answers and webhook bodies; and on the
adapter reading the document's examples. So neither the adapter nor the simulator can drift from 002
unnoticed. ``test_the_checker_catches_bad_requests`` / ``_bad_answers`` show each check failing on a
broken field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.http import RetryPolicy
from adapters.multisender import adapter as adapter_module
from adapters.multisender import simulator as simulator_module
from adapters.multisender import wire
from adapters.multisender.adapter import DEFAULT_BASE_URL, MultisenderAdapter, MultisenderConfig
from adapters.multisender.paths import ENDPOINTS
from adapters.multisender.simulator import API_TOKEN, MultisenderSimulator
from adapters.simulation import LoopbackServer, SimulatorBase
from tests.contract_excerpts import Excerpt as QuotedExcerpt
from tests.contract_excerpts import load_excerpts, misquotes
from tests.fakes.clock import SettableClock

REPO = Path(__file__).resolve().parents[3]
SEED_NAME = "002_dc1da26ac487815e.txt"
SEED_SHA256 = "39380924a8dc9f465c802ce1214574221a76cdc2062300b0122d7a979bbb186d"
EXCERPTS = REPO / "tests/fixtures/multisender/002_excerpts.txt"
#: The API's path prefix: inferred from 002 ~26 '/vi/accounts?access_token=123xyz' (a typo for /v1).
PREFIX = "/v1"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HELSINKI = ZoneInfo("Europe/Helsinki")
FAST = RetryPolicy(attempts=1, base_delay=0.001, max_delay=0.001)


# -- the quoted document ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Excerpt(QuotedExcerpt):
    """Lines ``first``..``last`` of 002, quoted verbatim, with the name we give the operation."""

    def examples(self) -> dict[int, Any]:
        """The example bodies of the operation by their line: 002's single-quoted JSON, read as JSON."""
        return {self.first + i: pseudo_json(text) for i, text in enumerate(self.lines) if text.startswith(("{", "["))}

    def hint(self) -> str | None:
        """The path the operation's own text prints ("Used in the URL like: /rsvp_calls/1"), if any."""
        found = re.search(r"Used in the URL like: (/\S+?) \|", self.text)
        return found.group(1) if found else None


@cache
def excerpts() -> dict[str, Excerpt]:
    return load_excerpts(EXCERPTS, Excerpt)


def quoted(name: str) -> Excerpt:
    return excerpts()[name]


def quoted_line(number: int) -> str | None:
    """002's line ``number`` if some excerpt quotes it."""
    return next((e.line(number) for e in excerpts().values() if e.covers(number)), None)


def pseudo_json(text: str) -> Any:
    """002's examples are JSON written with single quotes; nothing else in them is changed."""
    return json.loads(text.replace("'", '"'))


@dataclass(frozen=True)
class Row:
    """One row of an operation's parameter table (``name | type | Yes | description |``)."""

    name: str
    type: str
    required: bool
    description: str


def table(excerpt: Excerpt) -> list[Row]:
    """The operation's parameter rows; a row's description may run on over the next lines."""
    rows: list[Row] = []
    pending = ""
    for text in excerpt.lines:
        if pending:
            pending += " " + text
        elif re.match(r"^[A-Za-z][\w-]* \| [^|]+ \| (Yes|No) \|", text):
            pending = text
        if pending and pending.count("|") >= 4:
            name, kind, required, description = (part.strip() for part in pending.split("|")[:4])
            rows.append(Row(name, kind, required == "Yes", description))
            pending = ""
    return rows


def webhook_table(excerpt: Excerpt) -> list[str]:
    """The field names of a webhook's ``Parameter | Description |`` table."""
    text = excerpt.text.split("---|---|", 1)[1].split("Example webhook request body", 1)[0]
    return [line.split("|", 1)[0].strip() for line in text.strip().splitlines()]


def token_header(excerpt: Excerpt) -> str:
    """The token header the operation's own table names (``X-Access-Token`` or ``X-Authentication-Token``)."""
    [row] = [r for r in table(excerpt) if r.name.startswith("X-")]
    assert row.required and row.description == "Your authentication token"
    return row.name


def body_rows(excerpt: Excerpt) -> dict[str, Row]:
    """The operation's body fields: its table without the token header and the URL's id."""
    return {
        r.name: r for r in table(excerpt) if not r.name.startswith("X-") and "Used in the URL like" not in r.description
    }


def optional_at_creation(create: str) -> frozenset[str]:
    """Fields the create operation's table marks ``No``: 002 prints no value for them when unset."""
    return frozenset(r.name for r in body_rows(quoted(create)).values() if not r.required)


# -- shapes: what an example says about a value ------------------------------------------------------
DATETIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
TIME = r"\d{2}:\d{2}:\d{2}"
E164 = r"\+[1-9]\d{5,14}"
_CHOICES = re.compile(r"^[A-Za-z]+(?:, [A-Za-z]+)* or [A-Za-z]+$")
_FORMATS = {"yyyy-mm-dd hh:mm:ss": DATETIME, "hh:mm:ss": TIME, "e.164 number": E164}
_SAMPLES = {DATETIME: "2017-01-01 00:00:00", TIME: "08:00:00", E164: "+358401234567"}


@dataclass(frozen=True)
class Leaf:
    """One example value read as a contract: a type, maybe choices or a format, maybe null."""

    hint: Any
    kind: type
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    nullable: bool = False


def leaf_of(value: Any) -> Leaf:
    """``'int, 1 or 0'``, ``'string E.164 number'``, ``'active or halt'``, a literal ``'5'``, a real ``10``."""
    if not isinstance(value, str):
        return Leaf(value, type(value))
    text, nullable = value.strip(), False
    if text.endswith(" or null"):
        text, nullable = text.removesuffix(" or null"), True
    low = text.lower()
    if low.startswith("int"):
        return Leaf(value, int, (1, 0) if "1 or 0" in low else (), nullable=nullable)
    if low.startswith("float"):
        return Leaf(value, float, nullable=nullable)
    rest = text[len("string") :].lstrip(", ") if low.startswith("string") else text
    if rest.lower() in _FORMATS:
        return Leaf(value, str, pattern=_FORMATS[rest.lower()], nullable=nullable)
    if _CHOICES.match(rest) and rest != "string":
        return Leaf(value, str, tuple(re.split(r", | or ", rest)), nullable=nullable)
    return Leaf(value, str, nullable=nullable)  # 'string', or a literal example such as '5' or 'monday'


def shape_of(example: Any) -> Any:
    """The example with every leaf read as a :class:`Leaf` (a list's shape is its first item's)."""
    if isinstance(example, dict):
        return {key: shape_of(value) for key, value in example.items()}
    if isinstance(example, list):
        return [shape_of(example[0])]
    return leaf_of(example)


def instance(shape: Any) -> Any:
    """The example as a value: the first choice, a sample of the format, 1 for an int, else the hint."""
    if isinstance(shape, dict):
        return {key: instance(value) for key, value in shape.items()}
    if isinstance(shape, list):
        return [instance(shape[0])]
    leaf: Leaf = shape
    if leaf.choices:
        return leaf.choices[0]
    if leaf.pattern:
        return _SAMPLES[leaf.pattern]
    if leaf.kind is int:
        return leaf.hint if isinstance(leaf.hint, int) else 1
    if leaf.kind is float:
        return 1.5
    return leaf.hint


def conforms(value: Any, shape: Any, *, nullable: frozenset[str] = frozenset(), where: str = "") -> list[str]:
    """Every way ``value`` differs from the example's shape: fields missing or extra, types, choices, formats.

    ``meta`` is the client's own object (002: "Client meta data, which is passed, as is"), so any
    object fits it. ``nullable`` names fields that may be ``null`` besides those whose hint says so.
    """
    here = where or "(root)"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{here}: {value!r} is not an object"]
        errors = [f"{here}: missing {key!r}" for key in shape if key not in value]
        errors += [f"{here}: {key!r} is not in the document" for key in value if key not in shape]
        for key in shape.keys() & value.keys():
            path = f"{where}.{key}" if where else key
            if key == "meta" and (value[key] is None or isinstance(value[key], dict)):
                continue
            if value[key] is None and (key in nullable or (isinstance(shape[key], Leaf) and shape[key].nullable)):
                continue
            errors += conforms(value[key], shape[key], nullable=nullable, where=path)
        return errors
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{here}: {value!r} is not an array"]
        return [
            e for i, item in enumerate(value) for e in conforms(item, shape[0], nullable=nullable, where=f"{here}[{i}]")
        ]
    leaf: Leaf = shape
    if value is None:
        return [] if leaf.nullable else [f"{here}: null where the document has {leaf.hint!r}"]
    numeric = leaf.kind is float and isinstance(value, int | float)
    if isinstance(value, bool) or not (isinstance(value, leaf.kind) or numeric):
        return [f"{here}: {value!r} is not {leaf.kind.__name__} ({leaf.hint!r})"]
    if leaf.choices and value not in leaf.choices:
        return [f"{here}: {value!r} is not one of {leaf.choices}"]
    if leaf.pattern and not re.fullmatch(leaf.pattern, value):
        return [f"{here}: {value!r} does not have the format of {leaf.hint!r}"]
    return []


# -- what 002 says each operation is -----------------------------------------------------------------
REST_RULE = (
    "Resource can be retrieved by GET\nting its URL.",  # ~4-5
    "Use http PUT\nmethod to update the resource.",  # ~6-7
)
HEADER_RULE = "Two HTTP headers must be passed with every request to the Multisender API: Accept and Content-Type."
JSON_ONLY = (
    "Accept\napplication/json Application/json\nis the only supported value.",
    "Content-Type\napplication/jsonApplication/json\nis the only supported value.",
)
TOKEN_RULE = ("Pass the token via HTTP header: X-Access-Token", "Parameter: access_token")


def _collection(resource: str) -> str:
    """``/rsvp_calls/1`` -> ``/rsvp_calls`` ("Resouces are created by submitting an HTTP POST to a resource URI")."""
    return resource.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Operation:
    """An operation the adapter uses, as 002 describes it."""

    endpoint: str  # the adapter's endpoint name
    excerpt: str  # the operation's quote
    method: str  # by 002's REST rule
    resource_from: str  # the quote whose hint prints the resource URL
    collection: bool  # the path is that URL's collection, not the URL itself
    answer_line: int  # 002's line of the answer example

    @property
    def path(self) -> str:
        """The path template under the prefix, the id as ``{id}``."""
        hint = quoted(self.resource_from).hint()
        assert hint is not None and hint.endswith("/1"), (self.resource_from, hint)
        return _collection(hint) if self.collection else hint.removesuffix("/1") + "/{id}"

    @property
    def printed(self) -> bool:
        """Whether the operation's own text prints its path (what ``seed`` means in paths.py)."""
        hint = quoted(self.excerpt).hint()
        return hint is not None and self.path.replace("{id}", "1") == hint

    def answer(self) -> Any:
        return shape_of(quoted(self.excerpt).examples()[self.answer_line])

    def match(self, method: str, path: str) -> str | None:
        """The id in ``path`` ("" for a collection) when ``method path`` is this operation."""
        pattern = re.escape(PREFIX + self.path).replace(re.escape("{id}"), "([^/]+)")
        found = re.fullmatch(pattern, path)
        if method != self.method or found is None:
            return None
        return found.group(1) if found.groups() else ""


OPERATIONS: dict[str, Operation] = {
    op.endpoint: op
    for op in (
        Operation("rsvp_calls", "rsvp_calls.list", "GET", "rsvp_call.update", True, 324),
        Operation("rsvp_call", "rsvp_call.read", "GET", "rsvp_call.update", False, 329),
        Operation("rsvp_call.update", "rsvp_call.update", "PUT", "rsvp_call.update", False, 380),
        Operation("click_to_calls", "click_to_calls.list", "GET", "click_to_call.delete", True, 247),
    )
}
UPDATE_BODY_LINE = 378
RSVP_NULLABLE = optional_at_creation("rsvp_call.create") | {"latestCallAt"}  # latestCallAt: "not called yet"
C2C_NULLABLE = optional_at_creation("click_to_call.create") | {"latestCallAt"}


def list_item(op: Operation) -> Any:
    shape = op.answer()
    assert isinstance(shape, list), f"{op.excerpt}: the answer is not a bare array"
    return shape[0]


def update_contract() -> tuple[dict[str, Row], dict[str, Any], tuple[str, ...]]:
    """The update's body fields (table), the example's shape by field name, and ``state``'s updatable values."""
    excerpt = quoted("rsvp_call.update")
    rows = body_rows(excerpt)
    example = shape_of(excerpt.examples()[UPDATE_BODY_LINE])
    by_name = {name.lower(): value for name, value in example.items()}  # 002 writes 'actionbuttons' there
    states = re.search(r"Updatable values: ([\w, ]+)", rows["state"].description)
    assert states is not None
    return (
        rows,
        {name: by_name[name.lower()] for name in rows if name.lower() in by_name},
        tuple(states.group(1).split(", ")),
    )


def check_request(row: Mapping[str, Any], *, token: str, now: datetime) -> tuple[str | None, list[str]]:
    """Which operation a captured request is, and every way it breaks 002 (empty when it conforms)."""
    found = [(name, op.match(row["method"], row["path"])) for name, op in OPERATIONS.items()]
    matches = [(name, ident) for name, ident in found if ident is not None]
    if not matches:
        return None, [f"{row['method']} {row['path']} is no operation of the document that phonebot uses"]
    [(name, ident)] = matches
    op = OPERATIONS[name]
    headers = {k.lower(): v for k, v in row["headers"].items()}
    errors: list[str] = []
    if op.path.endswith("{id}") and not ident:
        errors.append(f"{name}: the id is empty")
    for header in ("accept", "content-type"):  # "application/json is the only supported value"
        if headers.get(header, "").split(";")[0].strip().lower() != "application/json":
            errors.append(f"{name}: {header} is {headers.get(header)!r}, not application/json")
    if token not in (headers.get("x-access-token"), *row["query"].get("access_token", [])):
        errors.append(f"{name}: no X-Access-Token header or access_token parameter with the token")
    named = token_header(quoted(op.excerpt))
    if headers.get(named.lower()) != token:
        errors.append(f"{name}: the operation's table requires the {named} header")
    errors += [f"{name}: undocumented query parameter {q!r}" for q in row["query"] if q != "access_token"]
    if op.method == "GET":
        if row["body"] is not None:
            errors.append(f"{name}: a GET with a body")
    else:
        errors += [f"{name}: {e}" for e in check_update_body(row["body"], now=now)]
    return name, errors


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def check_update_body(body: Any, *, now: datetime) -> list[str]:
    """The RSVP update's body against its table (~359-377) and example (~378)."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    rows, shapes, states = update_contract()
    errors = [f"{key!r} is not in the update's table" for key in body if key not in rows]
    errors += [f"required {name!r} is missing" for name, row in rows.items() if row.required and name not in body]
    kinds: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "JSON": (dict, list)}
    for name in rows.keys() & body.keys():
        value, row = body[name], rows[name]
        if value is None:
            if row.required:
                errors.append(f"required {name!r} is null")
            continue
        if isinstance(value, bool) or not isinstance(value, kinds[row.type]):
            errors.append(f"{name!r}: {value!r} is not {row.type}")
            continue
        if name == "state" and value not in states:
            errors.append(f"'state': {value!r} is not one of the updatable values {states}")
        if "Format: HH:MM:SS" in row.description and not re.fullmatch(TIME, value):
            errors.append(f"{name!r}: {value!r} is not HH:MM:SS")
        if "Format: YYYY-MM-DD HH:MM:SS" in row.description:
            if not re.fullmatch(DATETIME, value):
                errors.append(f"{name!r}: {value!r} is not YYYY-MM-DD HH:MM:SS")
            elif "over 1h in the past is not allowed" in row.description and _utc(value) < now - timedelta(hours=1):
                errors.append(f"{name!r}: {value!r} is over 1h in the past")
        if name in shapes and not isinstance(value, str) and name != "meta":
            errors += conforms(value, shapes[name], where=name)
    return errors


# -- servers ------------------------------------------------------------------------------------------
def recorded(server: LoopbackServer) -> list[dict[str, Any]]:
    answer = httpx.get(server.url + "/_sim/requests")
    answer.raise_for_status()
    rows = answer.json()
    assert isinstance(rows, list)
    return rows


@dataclass
class DocumentServer(SimulatorBase):
    """Answers each operation with 002's own example made a value (:func:`instance`), and nothing else.

    The list examples show one item; the read and update examples one object. ``state`` is the
    updatable ``active`` (002 lists it among the possible ones) so an update sends it back.
    """

    answers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, op in OPERATIONS.items():
            self.answers[name] = instance(op.answer())
        for call in (*self.answers["rsvp_calls"], self.answers["rsvp_call"], self.answers["rsvp_call.update"]):
            call["state"] = "active"

    def routes(self) -> list[BaseRoute]:
        def answer(name: str) -> Any:
            async def endpoint(request: Request) -> Response:
                return JSONResponse(copy.deepcopy(self.answers[name]))

            return endpoint

        return [Route(PREFIX + op.path, answer(name), methods=[op.method]) for name, op in OPERATIONS.items()]


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock(NOW)


@pytest.fixture(scope="module")
def sim(clock: SettableClock) -> MultisenderSimulator:
    return MultisenderSimulator(clock=clock)


@pytest.fixture(scope="module")
def sim_server(sim: MultisenderSimulator) -> Iterator[LoopbackServer]:
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
def fresh(clock: SettableClock, sim: MultisenderSimulator, doc: DocumentServer) -> None:
    clock.now = NOW
    sim.reset()
    doc.requests.clear()


async def _adapter(server: LoopbackServer, clock: SettableClock) -> AsyncIterator[MultisenderAdapter]:
    adapter = MultisenderAdapter(
        MultisenderConfig(base_url=server.url + PREFIX + "/", api_token=API_TOKEN), retry=FAST, clock=clock
    )
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def on_sim(sim_server: LoopbackServer, clock: SettableClock) -> AsyncIterator[MultisenderAdapter]:
    async for adapter in _adapter(sim_server, clock):
        yield adapter


@pytest.fixture
async def on_doc(doc_server: LoopbackServer, clock: SettableClock) -> AsyncIterator[MultisenderAdapter]:
    async for adapter in _adapter(doc_server, clock):
        yield adapter


def doc_get(server: LoopbackServer, path: str) -> Any:
    """A read sent as 002 asks (both JSON headers, the token in X-Access-Token)."""
    answer = httpx.get(server.url + PREFIX + path, headers=DOC_HEADERS)
    assert answer.status_code == 200, answer.text
    return answer.json()


DOC_HEADERS = {"Accept": "application/json", "Content-Type": "application/json", "X-Access-Token": API_TOKEN}


# -- the quotes and the evidence in paths.py ---------------------------------------------------------------
def test_the_excerpts_are_the_seeds_own_lines() -> None:
    assert {e.source for e in excerpts().values()} == {SEED_NAME}
    problems = misquotes(excerpts().values(), sha256={SEED_NAME: SEED_SHA256})
    if problems is None:
        pytest.skip("shared/ is not beside this checkout; the quoted excerpts are used as they are")
    assert problems == []


def test_the_rules_the_contracts_rest_on_are_quoted() -> None:
    rest, headers = quoted("rest").text, quoted("headers").text
    assert all(rule in rest for rule in REST_RULE)
    assert HEADER_RULE in headers and all(rule in headers for rule in (*JSON_ONLY, *TOKEN_RULE))
    assert quoted_line(26) == "/vi/accounts?access_token=123xyz"  # the one literal path: the /v1 prefix
    assert DEFAULT_BASE_URL == "https://api.multisender.net" + PREFIX + "/"


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_endpoint_row_carries_its_evidence(name: str) -> None:
    """Issue 10 point 9: ``seed`` only when the operation's own text prints the path; every cited line quoted."""
    endpoint, op = ENDPOINTS[name], OPERATIONS[name]
    assert (endpoint.method, re.sub(r"{[^}]+}", "{id}", endpoint.path)) == (op.method, op.path)
    cited = [int(n) for n in re.findall(r"~(\d+)", endpoint.note)]
    assert endpoint.note.startswith("002 ~") and cited, "the note starts with the operation's line in 002"
    assert quoted(op.excerpt).covers(cited[0]), f"{name}: ~{cited[0]} is not the {op.excerpt} operation"
    assert all(quoted_line(n) is not None for n in cited), f"{name}: cites lines no excerpt quotes"
    assert endpoint.source == ("seed" if op.printed else "inferred"), f"{name} is tagged {endpoint.source}"
    resource = op.path.replace("{id}", "1")
    hints = {h.group(1) for n in cited if (h := re.search(r"Used in the URL like: (/\S+)", quoted_line(n) or ""))}
    assert resource in hints or resource + "/1" in hints, f"{name}: no cited line prints {resource} or its item"


def test_every_operation_the_adapter_uses_is_in_the_contract() -> None:
    assert set(ENDPOINTS) == set(OPERATIONS)


def test_required_update_fields_are_the_documents() -> None:
    rows, _, states = update_contract()
    required = {name for name, row in rows.items() if row.required}
    assert set(adapter_module.RSVP_REQUIRED) == required == set(simulator_module.RSVP_REQUIRED)
    assert "receivers" not in rows and states == ("active", "halt")


# -- the checker fails on broken fields ----------------------------------------------------------------
GOOD_HEADERS = {**{k.lower(): v for k, v in DOC_HEADERS.items()}, "x-authentication-token": API_TOKEN}
GOOD_BODY: dict[str, Any] = {
    "endTime": "2026-12-02 20:00:00",
    "activeFrom": "08:00:00",
    "activeTo": "20:00:00",
    "activeWeekdays": [{"weekday": "monday", "active": "1"}],
    "voiceFiles": [{"type": "start", "voiceFileId": "41"}],
    "actionButtons": [{"button": "5", "action": "accept"}],
    "acceptsWanted": 2,
    "state": "halt",
    "startTime": "2026-12-01 08:30:00",
    "stateWebhookUrl": "https://p.example/s",
    "meta": {"any": ["thing"]},
}


def _row(method: str, path: str, *, headers: Mapping[str, str] = GOOD_HEADERS, **extra: Any) -> dict[str, Any]:
    return {"method": method, "path": path, "query": {}, "body": None, "headers": dict(headers), **extra}


def _without(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (_row("GET", "/v1/rsvp_call/7"), "no operation of the document"),
        (_row("POST", "/v1/rsvp_calls"), "no operation of the document"),
        (_row("GET", "/rsvp_calls"), "no operation of the document"),
        (_row("GET", "/v1/rsvp_calls", headers=_without(GOOD_HEADERS, "accept")), "accept is None"),
        (_row("GET", "/v1/rsvp_calls", headers={**GOOD_HEADERS, "content-type": "text/plain"}), "content-type is"),
        (
            _row("GET", "/v1/rsvp_calls", headers=_without(GOOD_HEADERS, "x-access-token")),
            "requires the X-Access-Token",
        ),
        (
            _row("PUT", "/v1/rsvp_calls/7", headers=_without(GOOD_HEADERS, "x-authentication-token"), body=GOOD_BODY),
            "X-Authentication-Token header",
        ),
        (_row("GET", "/v1/rsvp_calls", query={"limit": ["5"]}), "undocumented query parameter 'limit'"),
        (_row("GET", "/v1/rsvp_calls/7", body={}), "a GET with a body"),
        (_row("PUT", "/v1/rsvp_calls/7"), "not a JSON object"),
        (
            _row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "receivers": []}),
            "'receivers' is not in the update's table",
        ),
        (
            _row("PUT", "/v1/rsvp_calls/7", body=_without(GOOD_BODY, "acceptsWanted")),
            "required 'acceptsWanted' is missing",
        ),
        (_row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "acceptsWanted": "2"}), "'acceptsWanted': '2' is not int"),
        (_row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "state": "complete"}), "not one of the updatable values"),
        (
            _row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "startTime": "2026-12-01 07:00:00"}),
            "over 1h in the past",
        ),
        (
            _row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "endTime": "2026-12-02T20:00:00Z"}),
            "not YYYY-MM-DD HH:MM:SS",
        ),
        (_row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "activeTo": "20:00"}), "not HH:MM:SS"),
        (
            _row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "activeWeekdays": [{"weekday": "monday"}]}),
            "missing 'active'",
        ),
        (
            _row("PUT", "/v1/rsvp_calls/7", body={**GOOD_BODY, "actionbuttons": []}),
            "'actionbuttons' is not in the update's table",
        ),
    ],
)
def test_the_checker_catches_bad_requests(row: dict[str, Any], problem: str) -> None:
    _, errors = check_request(row, token=API_TOKEN, now=NOW)
    assert any(problem in error for error in errors), errors


def test_the_checker_passes_good_requests() -> None:
    for row in (
        _row("GET", "/v1/rsvp_calls"),
        _row("GET", "/v1/click_to_calls", query={"access_token": [API_TOKEN]}),
        _row("PUT", "/v1/rsvp_calls/7", body=GOOD_BODY),
    ):
        assert check_request(row, token=API_TOKEN, now=NOW)[1] == [], row


def _c2c() -> dict[str, Any]:
    item: dict[str, Any] = instance(list_item(OPERATIONS["click_to_calls"]))
    return item


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: c["stats"].pop("acceptsReceived"), "stats: missing 'acceptsReceived'"),
        (lambda c: c.update(clickToCall="12"), "'clickToCall' is not in the document"),
        (lambda c: c.update(voiceFileId="vf-1"), "voiceFileId: 'vf-1' is not int"),
        (lambda c: c["receivers"][0].update(reply="yes"), "receivers[0].reply: 'yes' is not one of"),
        (lambda c: c["receivers"][0].update(answered=True), "is not int"),
        (lambda c: c["receivers"][0].update(phone="0401234567"), "does not have the format"),
        (lambda c: c["receivers"][0].update(accountId=None, lastName=None), "receivers[0].lastName: null"),
        (lambda c: c.update(activeWeekdays={"monday": "1"}), "is not an array"),
        (lambda c: c.update(receivers=["808"]), "is not an object"),
    ],
)
def test_the_checker_catches_bad_answers(change: Any, problem: str) -> None:
    item = _c2c()
    assert conforms(item, list_item(OPERATIONS["click_to_calls"]), nullable=C2C_NULLABLE) == []
    change(item)
    errors = conforms(item, list_item(OPERATIONS["click_to_calls"]), nullable=C2C_NULLABLE)
    assert any(problem in error for error in errors), errors


# -- the adapter's requests -----------------------------------------------------------------------------
async def exercise(adapter: MultisenderAdapter, rsvp_call_id: str) -> None:
    """Every operation the adapter has: both lists, one call, and an update of its webhook URLs."""
    await adapter.list_rsvp_calls()
    await adapter.list_click_to_calls()
    await adapter.set_rsvp_webhooks(rsvp_call_id, state_url="https://p.example/s", receiver_url="https://p.example/r")


def conforming(rows: list[dict[str, Any]]) -> set[str]:
    covered: set[str] = set()
    for row in rows:
        name, errors = check_request(row, token=API_TOKEN, now=NOW)
        assert errors == [], f"{row['method']} {row['path']}: {errors}"
        assert name is not None
        covered.add(name)
    return covered


async def test_every_request_to_the_simulator_conforms(
    on_sim: MultisenderAdapter, sim: MultisenderSimulator, sim_server: LoopbackServer
) -> None:
    sim.rsvp_call("8").update(state="waitingToActive", startTime="2026-12-02 06:00:00")  # a start still ahead
    try:
        await exercise(on_sim, "7")  # calling: its state is sent back
        await on_sim.set_rsvp_webhooks("8", state_url="https://p.example/s", receiver_url="https://p.example/r")
    finally:  # a request the simulator refused is reported as the breach it is
        rows = recorded(sim_server)
        covered = conforming(rows)
    assert covered == set(OPERATIONS)
    puts = [r["body"] for r in rows if r["method"] == "PUT"]
    assert [("state" in b, "startTime" in b) for b in puts] == [(True, False), (False, True)]


async def test_every_request_to_the_documents_examples_conforms(
    on_doc: MultisenderAdapter, doc: DocumentServer, doc_server: LoopbackServer
) -> None:
    """The same check behind a server that answers only 002's examples, so a lenient simulator hides nothing."""
    [listed] = doc.answers["rsvp_calls"]
    try:
        await exercise(on_doc, listed["rsvpCallId"])
    finally:
        rows = recorded(doc_server)
        covered = conforming(rows)
    assert covered == set(OPERATIONS)
    [put] = [r["body"] for r in rows if r["method"] == "PUT"]
    read = doc.answers["rsvp_call"]
    assert {k: put[k] for k in adapter_module.RSVP_REQUIRED} == {k: read[k] for k in adapter_module.RSVP_REQUIRED}
    assert (put["state"], put["maxRedials"], put["meta"]) == (read["state"], read["maxRedials"], read["meta"])
    assert (put["stateWebhookUrl"], put["receiverWebhookUrl"]) == ("https://p.example/s", "https://p.example/r")


def test_the_simulator_refuses_requests_without_the_json_headers(sim_server: LoopbackServer) -> None:
    for missing in ("Accept", "Content-Type"):
        headers = _without(DOC_HEADERS, missing)
        assert httpx.get(sim_server.url + "/v1/rsvp_calls", headers=headers).status_code == 400
    assert httpx.get(sim_server.url + "/v1/rsvp_calls", headers=DOC_HEADERS).status_code == 200


# -- the adapter reads the document's examples ---------------------------------------------------------------
def _as_read(model: type[wire.RsvpCall] | type[wire.ClickToCall], parsed: Any, example: Mapping[str, Any]) -> None:
    """Every field the model reads is a field of the example, read with the example's value."""
    for name in model.model_fields:
        assert name in example, f"{model.__name__}.{name} is not in the document's example"
        assert getattr(parsed, name) == example[name], name


async def test_the_adapter_reads_the_documents_rsvp_examples(on_doc: MultisenderAdapter, doc: DocumentServer) -> None:
    [call] = await on_doc.list_rsvp_calls()
    [example] = doc.answers["rsvp_calls"]
    _as_read(wire.RsvpCall, call, example)
    one = await on_doc.rsvp_call(example["rsvpCallId"])
    _as_read(wire.RsvpCall, one, doc.answers["rsvp_call"])
    assert (one.receiverWebhookUrl, one.stateWebhookUrl) == ("http://example.com/webhook/",) * 2
    updated = await on_doc.set_rsvp_webhooks(
        one.rsvpCallId, state_url="https://p.example/s", receiver_url="https://p.example/r"
    )
    _as_read(wire.RsvpCall, updated, doc.answers["rsvp_call.update"])


async def test_the_adapter_reads_the_documents_click_to_call_example(
    on_doc: MultisenderAdapter, doc: DocumentServer
) -> None:
    [item] = await on_doc.list_click_to_calls()
    [example] = doc.answers["click_to_calls"]
    _as_read(wire.ClickToCall, item, example)
    assert item.meta == {"someparam": "string", "otherparam": "string"}


# -- the simulator answers like the document ------------------------------------------------------------------
def test_the_simulators_answers_have_the_documents_fields(
    sim: MultisenderSimulator, sim_server: LoopbackServer
) -> None:
    sim.reply("7", "808", "accept")  # receivers and stats move on: still the documented fields
    sim.reply("7", "810", "noReply")
    calls = doc_get(sim_server, "/rsvp_calls")
    assert [conforms(c, list_item(OPERATIONS["rsvp_calls"]), nullable=RSVP_NULLABLE) for c in calls] == [[]] * 3
    assert (
        conforms(doc_get(sim_server, "/rsvp_calls/7"), OPERATIONS["rsvp_call"].answer(), nullable=RSVP_NULLABLE) == []
    )
    lists = doc_get(sim_server, "/click_to_calls")
    assert [conforms(c, list_item(OPERATIONS["click_to_calls"]), nullable=C2C_NULLABLE) for c in lists] == [[]]
    for item in calls:
        wire.RsvpCall.model_validate(item)
    wire.ClickToCall.model_validate(lists[0])


def test_the_simulator_updates_like_the_document(sim_server: LoopbackServer) -> None:
    """002's own update example (~378), with the table's ``actionButtons`` for its ``actionbuttons``."""
    example = instance(shape_of(quoted("rsvp_call.update").examples()[UPDATE_BODY_LINE]))
    example["actionButtons"] = example.pop("actionbuttons")
    example["startTime"] = "2026-12-01 09:30:00"
    assert check_update_body(example, now=NOW) == []
    answer = httpx.put(sim_server.url + "/v1/rsvp_calls/7", headers=DOC_HEADERS, json=example)
    assert answer.status_code == 200, answer.text  # "HTTP 200 OK" and the object (~379-380)
    assert conforms(answer.json(), OPERATIONS["rsvp_call.update"].answer(), nullable=RSVP_NULLABLE) == []
    refused = httpx.put(sim_server.url + "/v1/rsvp_calls/7", headers=DOC_HEADERS, json={**example, "receivers": []})
    assert refused.status_code == 400  # no receivers row in the update's table


# -- webhooks ----------------------------------------------------------------------------------------------
def state_example() -> dict[str, Any]:
    example: dict[str, Any] = quoted("state_webhook").examples()[43]
    return example


def receiver_example() -> dict[str, Any]:
    example: dict[str, Any] = quoted("receiver_webhook").examples()[56]
    return example


STATES = tuple(
    re.search(r"Possible states are ([\w, ]+)\.", quoted("state_webhook").text).group(1).split(", ")  # type: ignore[union-attr]
)
REPLIES = leaf_of(receiver_example()["rsvpReply"]).choices  # "accept, decline or noReply"


def test_the_webhook_quotes_read_as_the_contract_expects() -> None:
    assert STATES == ("waitingToActive", "active", "halt", "complete") and REPLIES == ("accept", "decline", "noReply")
    table_fields = webhook_table(quoted("state_webhook"))
    assert set(table_fields) ^ set(state_example()) == {
        *TABLE_FOR_EXAMPLE,
        *TABLE_FOR_EXAMPLE.values(),
    }  # 002's own mismatch
    assert webhook_table(quoted("receiver_webhook")) == list(receiver_example())


def _reads(model: type[wire.StateWebhook] | type[wire.ReceiverWebhook]) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        names |= (
            {str(choice) for choice in alias.choices} if alias is not None and hasattr(alias, "choices") else {name}
        )
    return names


def test_the_webhook_models_read_every_documented_field() -> None:
    assert set(webhook_table(quoted("state_webhook"))) | set(state_example()) <= _reads(wire.StateWebhook)
    assert set(webhook_table(quoted("receiver_webhook"))) | set(receiver_example()) <= _reads(wire.ReceiverWebhook)


@pytest.fixture
async def parser() -> AsyncIterator[MultisenderAdapter]:
    adapter = MultisenderAdapter(MultisenderConfig(api_token="k"), clock=lambda: NOW)
    yield adapter
    await adapter.aclose()


@pytest.mark.parametrize("form", ["example", "table"])
@pytest.mark.parametrize("state", STATES)
async def test_the_documents_state_webhook_parses(parser: MultisenderAdapter, form: str, state: str) -> None:
    body = {**state_example(), "state": state}
    if form == "table":  # the table names the count totalDialedCalls, the example dialedCalls
        body["totalDialedCalls"] = body.pop("dialedCalls")
    for resource in ("rsvp-303", "account"):
        [event] = parser.parse_webhook(json.dumps(body).encode(), {}, path="state", resource=resource)
        assert event.subject == "rsvp:303"
        assert event.occurred_at == datetime(2017, 1, 1, tzinfo=HELSINKI)  # "2017-01-01:00:00:00"
        assert event.detail == {
            "webhook": "state",
            "rsvp_call_id": "303",
            "state": state,
            "dialled_calls": 10,
            "answered_calls": 8,
            "accepts_received": 5,
            "total_duration_seconds": 3600,
        }


@pytest.mark.parametrize("reply", REPLIES)
async def test_the_documents_receiver_webhook_parses(parser: MultisenderAdapter, reply: str) -> None:
    body = {**receiver_example(), "rsvpReply": reply}
    [event] = parser.parse_webhook(json.dumps(body).encode(), {}, path="receiver", resource="rsvp-303")
    phrase = {"accept": "accepted", "decline": "declined", "noReply": "did not answer"}[reply]
    assert (event.subject, event.text) == ("rsvp:303", f"account 808 (xxxx12342) {phrase}")
    assert (event.detail["reply"], event.detail["account_id"], event.detail["rsvp_call_id"]) == (reply, "808", "303")
    assert event.occurred_at == datetime(2017, 1, 1, tzinfo=HELSINKI)
    # A click-to-call's receiverWebhookUrl gets the same Receiver Webhook (~267).
    assert "More info in the Receiver Webhook section" in quoted("click_to_call.create").line(267)
    [c2c] = parser.parse_webhook(json.dumps(body).encode(), {}, path="", resource="c2c-303")
    assert (c2c.subject, c2c.detail["reply"]) == ("c2c:303", reply)


#: 002's state table names a count ``totalDialedCalls`` (~37) that its example calls ``dialedCalls`` (~43).
TABLE_FOR_EXAMPLE = {"totalDialedCalls": "dialedCalls"}


def webhook_errors(body: dict[str, Any], excerpt: Excerpt, example: dict[str, Any]) -> list[str]:
    """The body against the example's shape, or against the table's field names with the example's values."""
    shape = shape_of(example)
    table_shape = {name: shape[TABLE_FOR_EXAMPLE.get(name, name)] for name in webhook_table(excerpt)}
    return min((conforms(body, shape), conforms(body, table_shape)), key=len)


@pytest.mark.parametrize("state", STATES)
async def test_the_simulators_state_webhook_is_the_documents(
    sim: MultisenderSimulator, parser: MultisenderAdapter, state: str
) -> None:
    sim.rsvp_call("7")["state"] = state
    body = sim.state_body("7")
    assert webhook_errors(body, quoted("state_webhook"), state_example()) == []
    assert body["state"] in STATES and re.fullmatch(r"\d{4}-\d{2}-\d{2}:\d{2}:\d{2}:\d{2}", body["timestamp"])
    [event] = parser.parse_webhook(json.dumps(body).encode(), {}, path="state", resource="rsvp-7")
    assert event.detail["state"] == state


@pytest.mark.parametrize("reply", REPLIES)
async def test_the_simulators_receiver_webhooks_are_the_documents(
    sim: MultisenderSimulator, parser: MultisenderAdapter, reply: str
) -> None:
    for resource, body in (
        ("rsvp-7", sim.receiver_body("7", "808", reply)),
        ("c2c-12", sim.click_to_call_body("12", "809", reply)),
    ):
        example = {**receiver_example(), "rsvpReply": reply}
        assert webhook_errors(body, quoted("receiver_webhook"), example) == [], resource
        assert body["rsvpReply"] in REPLIES
        assert re.fullmatch(r"xxxx\d+", body["phoneNumber"])  # masked, as the example's "xxxx12342"
        [event] = parser.parse_webhook(json.dumps(body).encode(), {}, path="receiver", resource=resource)
        assert event.detail["reply"] == reply
