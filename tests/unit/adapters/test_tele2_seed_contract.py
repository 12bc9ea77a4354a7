"""Tele2 contract tests from the connector page (seed 003), bound to Tele2's Swagger and to the adapter.

003 (``shared/seeds/003_8708be4dfefa65d5.txt``) is the Power Platform connector page: it prints each
operation's parameter table (``key | True | type |``) and answer fields (``data.callerid | string |``)
and no request path at all. [S1] is Tele2's Swagger 2.0 file (``test_tele2_contract.py`` checks every
request against it). The parts used are quoted verbatim in ``tests/fixtures/tele2/`` (see its
README) and read through ``tests/contract_excerpts.py``; when ``shared/`` is beside the checkout the
quotes are first checked against the documents, so a misquote fails.

What is held here:

* issue 10 point 9: every row of ``adapters/tele2/paths.py`` names its evidence. No row may be
  ``seed`` (003 prints no path); a ``public`` row names the Swagger operation printing its path; an
  ``inferred`` row is in neither document, and the notes call it inferred; a row quoting a 003
  block is that block, and every ``'<words>' (003 ~N)`` in a note is on that line;
* point 13: the parameters and answer fields 003 prints for each operation phonebot uses (Dial, Get
  lost calls, Get Contacts, the ten webhook callbacks) are the Swagger's, so the Swagger checks in
  the other file are checks against 003 as well; and the adapter's callback models carry exactly
  those fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from adapters.tele2 import wire
from adapters.tele2.paths import ENDPOINTS, WEBHOOK_EVENTS
from tests.contract_excerpts import Excerpt, load_excerpts, misquotes, shared_document

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests/fixtures/tele2"
SEED = "003_8708be4dfefa65d5.txt"
SEED_SHA256 = {SEED: "824001d2c1d704d0a0f99491344e254d0d4983b05f271e76dafc4ff27d53614d"}
SPEC = FIXTURES / "apiDefinition.swagger.json"
#: Fields the captured LMT callbacks carry beyond 003 and the Swagger (``tests/fixtures/tele2/captured``).
CAPTURED_EXTRAS: dict[str, set[str]] = {"CallCompleted": {"callEnded"}, "CallTransfered": {"callEnded"}}

# 003 ``key | True | type |`` (a parameter) and ``data.path | type |`` (an answer field) rows.
PARAMETER = re.compile(r"^(?P<key>[A-Za-z_]\w*) \| (?:(?P<required>True) \| )?(?P<type>[\w -]+) \|$")
FIELD = re.compile(r"^(?P<path>[A-Za-z_][\w.]*) \| (?P<type>[\w -]+) \|$")
# 003 names types in words; the Swagger's type (and ``/format`` for date-time) for each.
SEED_TYPES = {"string": "string", "integer": "integer", "date-time": "string/date-time", "array of object": "array"}

NOTE = re.compile(
    r"^(?:003 ~(?P<first>\d+)-(?P<last>\d+) '(?P<words>[^']+)'|(?P<callbacks>003 ten '<Event> webhook callback' "
    r"blocks)|no seed operation)[^;]*; path: (?P<path>[^;]+)"
)
PUBLIC = re.compile(r"^public S1 (?P<operation>\w+|<Event>) '(?P<method>[A-Z]+) (?P<template>[^']+)'")
CITATION = re.compile(r"'(?P<words>[^']+)'[^'(;]*\(003 ~(?P<line>\d+)\)")


@dataclass(frozen=True)
class Block(Excerpt):
    """One block of 003 (an operation), or of the notes."""

    def section(self, heading: str) -> Iterator[str]:
        """The block's lines after ``heading`` (``Parameters`` / ``Returns``) up to the next heading."""
        inside = False
        for line in self.lines:
            if line in ("Parameters", "Returns"):
                inside = line == heading
            elif inside:
                yield line

    def parameters(self) -> dict[str, tuple[str, bool]]:
        """``key -> (003 type, required)`` of the parameter table."""
        rows = (PARAMETER.match(line) for line in self.section("Parameters"))
        return {m["key"]: (m["type"], bool(m["required"])) for m in rows if m}

    def fields(self) -> dict[str, str]:
        """``dotted path -> Swagger type`` of every answer field that holds a value (not the containers)."""
        rows = (FIELD.match(line) for line in self.section("Returns"))
        return {m["path"]: SEED_TYPES[m["type"]] for m in rows if m and m["type"] not in ("object", "array of object")}


@cache
def quotes() -> dict[str, Block]:
    return {
        **load_excerpts(FIXTURES / "003_excerpts.txt", Block),
        **{f"notes.{k}": v for k, v in load_excerpts(FIXTURES / "notes_excerpts.txt", Block).items()},
    }


@cache
def spec() -> dict[str, Any]:
    loaded = json.loads(SPEC.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def swagger_operation(method: str, template: str) -> Mapping[str, Any] | None:
    item = spec()["paths"].get(template, {})
    found = item.get(method.lower())
    return found if isinstance(found, Mapping) else None


def leaves(schema: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``dotted path -> type`` of every value field of a Swagger schema, arrays read through as 003 does."""
    if schema.get("type") == "array":
        return leaves(schema.get("items", {}), prefix)
    found: dict[str, str] = {}
    for name, sub in schema.get("properties", {}).items():
        kind = sub.get("type")
        if kind in ("object", "array"):
            found |= leaves(sub, f"{prefix}{name}.")
        else:
            found[prefix + name] = kind + ("/date-time" if sub.get("format") == "date-time" else "")
    return found


def swagger_parameters(operation: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """``name -> (type, required)`` of an operation's query/path parameters and JSON body properties."""
    found: dict[str, tuple[str, bool]] = {}
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "body":
            schema = parameter["schema"]
            for name, sub in schema.get("properties", {}).items():
                found[name] = (sub["type"], name in schema.get("required", ()))
        else:
            kind = parameter["type"] + ("/date-time" if parameter.get("format") == "date-time" else "")
            found[parameter["name"]] = (kind, bool(parameter.get("required")))
    return found


# -- the quotes are the documents --------------------------------------------------------------------------
def test_each_quote_is_verbatim_and_the_seed_is_the_one_hashed() -> None:
    problems = misquotes(quotes().values(), sha256=SEED_SHA256)
    if problems is None:
        pytest.skip("shared/ is not beside this checkout; the quotes alone are the contract")
    assert problems == []
    assert SEED_SHA256[SEED] in (FIXTURES / "README.md").read_text(encoding="utf-8")


def test_the_seed_prints_no_request_path() -> None:
    """Why no Tele2 row may be ``seed``: 003 names operations, never their URLs."""
    seed = shared_document(SEED)
    quoted = [line for quote in quotes().values() if quote.source == SEED for line in quote.lines]
    lines = seed.read_text(encoding="utf-8").splitlines() if seed else quoted
    paths = {e.path.split("{")[0].rstrip("/") for e in ENDPOINTS.values()} | {"/api/v2"}
    assert [line for line in lines if any(p in line for p in paths)] == []
    assert "API -> WEB HOOKS" in quotes()["limits"].line(34)  # the panel, not a path


# -- issue 10 point 9: every endpoint row carries its evidence ------------------------------------------------
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_endpoint_row_carries_its_evidence(name: str) -> None:
    endpoint = ENDPOINTS[name]
    note = NOTE.match(endpoint.note)
    assert note is not None, f"{name}: the note is not '<operation>; path: <evidence>': {endpoint.note!r}"
    assert endpoint.source in ("public", "inferred"), f"{name}: 003 prints no path, so nothing is {endpoint.source}"
    # The operation: the quoted 003 block, the ten callback blocks, or none.
    if note["first"]:
        block = quotes()[name]
        assert (block.first, block.last) == (int(note["first"]), int(note["last"])), block
        assert block.lines[0] == note["words"], f"{name}: 003 ~{block.first} is {block.lines[0]!r}"
    elif note["callbacks"]:
        for event in WEBHOOK_EVENTS:
            assert quotes()[f"webhook.{event}"].lines[0] == f"{event} webhook callback"
    else:
        assert name not in quotes(), f"{name} says no seed operation, but 003 ~{quotes()[name].first} is quoted as it"
    # The path.
    evidence = note["path"]
    templates = (
        [endpoint.path.replace("{event}", event) for event in WEBHOOK_EVENTS]
        if "{event}" in endpoint.path
        else [endpoint.path]
    )
    if endpoint.source == "public":
        public = PUBLIC.match(evidence)
        assert public is not None, f"{name}: no Swagger operation named in {evidence!r}"
        assert public["method"] == endpoint.method
        for template, event in zip(templates, WEBHOOK_EVENTS if len(templates) > 1 else ("",), strict=True):
            operation = swagger_operation(endpoint.method, template)
            assert operation is not None, f"{name}: the Swagger has no {endpoint.method} {template}"
            assert public["template"].replace("<Event>", event) == template
            assert operation["operationId"] == public["operation"].replace("<Event>", event)
            path_parameters = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert path_parameters == set(re.findall(r"{(\w+)}", template)), (name, template)
    else:
        assert evidence.startswith("inferred, "), evidence
        assert all(swagger_operation(endpoint.method, t) is None for t in templates), f"{name} is in the Swagger"
        endpoints = quotes()["notes.endpoints"].text
        row = next(line for line in endpoints.splitlines() if f"| {endpoint.method} | `{endpoint.path}`" in line)
        assert "**inferred**" in row, row
    # Every '<words>' (003 ~N) of the note is on line N.
    for cited in CITATION.finditer(endpoint.note):
        line = int(cited["line"])
        quote = next((q for q in quotes().values() if q.source == SEED and q.covers(line)), None)
        assert quote is not None, f"{name}: 003 ~{line} is not quoted"
        assert cited["words"] in quote.line(line), f"{name}: {cited['words']!r} is not on 003 ~{line}"


def test_the_contacts_row_says_what_the_seed_does_not_print() -> None:
    """003's Get Contacts has no initial_contact_id; the Swagger requires it; '0 = from the start' is ours."""
    seed_keys = set(quotes()["contacts"].parameters())
    operation = swagger_operation("GET", "/trigger/contacts")
    assert operation is not None
    required = {k for k, (_, needed) in swagger_parameters(operation).items() if needed}
    assert required - seed_keys == {"initial_contact_id"}
    [initial] = [p for p in operation["parameters"] if p["name"] == "initial_contact_id"]
    note = ENDPOINTS["contacts"].note
    assert "initial_contact_id, which 003 does not print" in note and "inferred from S2" in note
    assert f"S1: default {initial['default']}, '{initial['description']}'" in note
    assert "**infer**" in quotes()["notes.polling"].text


def test_the_webhook_id_and_the_list_route_are_inferred_in_the_notes() -> None:
    notes = quotes()["notes.webhooks"].text
    assert "**inferred**" in notes and "Location" in notes
    assert "inferred" in ENDPOINTS["webhook.subscribe"].note.split("data = string")[1]


# -- point 13: 003's operations are the Swagger's --------------------------------------------------------------
OPERATIONS = {"dial": ("POST", "/dial"), "lost_calls": ("GET", "/lost_calls"), "contacts": ("GET", "/trigger/contacts")}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_seed_parameters_and_answers_are_the_swaggers(name: str) -> None:
    block = quotes()[name]
    operation = swagger_operation(*OPERATIONS[name])
    assert operation is not None
    declared = swagger_parameters(operation)
    for key, (kind, required) in block.parameters().items():
        assert key in declared, f"003 {name} prints {key}, the Swagger lacks it"
        assert declared[key] == (SEED_TYPES[kind], required), (name, key)
    answer = operation["responses"]["200"]["schema"]
    assert block.fields() == leaves(answer), name


@pytest.mark.parametrize("event", WEBHOOK_EVENTS)
def test_seed_callback_fields_are_the_swaggers_and_the_adapters(event: str) -> None:
    block = quotes()[f"webhook.{event}"]
    schema = spec()["paths"][f"/webhooks/{event}"]["x-ms-notification-content"]["schema"]
    assert block.fields() == leaves(schema), event
    data = {path.removeprefix("data.") for path in block.fields() if path.startswith("data.")}
    assert data | CAPTURED_EXTRAS.get(event, set()) == set(wire.WEBHOOK_PAYLOADS[event].model_fields)


def test_the_block_reader_fails_on_a_changed_block() -> None:
    """The comparisons above can fail: a renamed field or a dropped requirement shows."""
    dial = quotes()["dial"]
    broken = replace(
        dial, lines=tuple(line.replace("contactID | True | integer |", "contactID | integer |") for line in dial.lines)
    )
    assert broken.parameters()["contactID"] == ("integer", False) != dial.parameters()["contactID"]
    lost = quotes()["lost_calls"]
    renamed = replace(lost, lines=tuple(line.replace("data.callerid |", "data.caller_id |") for line in lost.lines))
    operation = swagger_operation("GET", "/lost_calls")
    assert operation is not None
    assert renamed.fields() != leaves(operation["responses"]["200"]["schema"])
