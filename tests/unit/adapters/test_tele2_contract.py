"""Every request the Tele2 adapter sends is checked against the vendor's own Swagger 2.0 file.

The Swagger is ``certified-connectors/Mobili Stotele/apiDefinition.swagger.json`` from
microsoft/PowerPlatformConnectors: ``shared/vendors/specs/mobili-stotele/`` beside the repository,
else the vendored copy in ``tests/fixtures/tele2/`` (see its NOTICE). No maintained library checks
requests against Swagger 2.0 without bringing a large tree with it, so :class:`SwaggerContract` does
it with ``jsonschema`` (Draft 4, the dialect of Swagger 2.0 schemas) and a ``referencing`` registry
over the whole document, so ``$ref``s into ``definitions`` and ``parameters`` resolve. It checks:
method and path template exist under ``basePath``; required path, query and header parameters are
present and declared ones have the declared type; no undeclared query parameter; the JSON body
validates against the operation's body schema; the security requirement (the ``Authorization``
header) is met. The tests below check the checker too.

The adapter's requests are captured from the simulator's ``GET /_sim/requests``. The one inferred
endpoint (``GET /webhooks``, not in the Swagger) is asserted to be the only request outside it; the
simulator answers it 404, as an API without that route does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from adapters.models import VendorIdentity
from adapters.simulation import LoopbackServer
from adapters.tele2 import wire
from adapters.tele2.adapter import DEFAULT_BASE_URL, Tele2Adapter, Tele2Config
from adapters.tele2.paths import ENDPOINTS, WEBHOOK_EVENTS
from adapters.tele2.simulator import API_KEY, Tele2Simulator

REPO = Path(__file__).resolve().parents[3]
SPEC_NAME = "apiDefinition.swagger.json"
SHARED_SPEC = REPO.parent / "shared/vendors/specs/mobili-stotele" / SPEC_NAME
VENDORED_SPEC = REPO / "tests/fixtures/tele2" / SPEC_NAME
SPEC_SHA256 = "94a7eba04c741b3397c9d3900c2d553c2c0fa1ec957d9ca0e7495892fb6a8ae8"
SPEC_URI = "urn:phonebot:tele2-swagger"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def spec_path() -> Path:
    """The shared copy when ``shared/`` is checked out beside the repo, else the vendored one."""
    return SHARED_SPEC if SHARED_SPEC.is_file() else VENDORED_SPEC


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Operation:
    """One Swagger operation with its path template compiled."""

    method: str
    template: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    spec: Mapping[str, Any]
    path_parameters: tuple[Mapping[str, Any], ...]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))


class SwaggerContract:
    """Validates concrete HTTP requests against a Swagger 2.0 document."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        assert spec.get("swagger") == "2.0", "not a Swagger 2.0 document"
        self.spec = spec
        self.base_path = "/" + str(spec.get("basePath", "/")).strip("/")
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(spec))
        self.operations: list[Operation] = []
        for template, item in spec["paths"].items():
            names = tuple(re.findall(r"{([^}/]+)}", template))
            regex = "".join(
                "([^/]+)" if part.startswith("{") else re.escape(part) for part in re.split(r"({[^}/]+})", template)
            )
            for method in METHODS:
                if method in item:
                    self.operations.append(
                        Operation(
                            method=method.upper(),
                            template=template,
                            pattern=re.compile(regex),
                            names=names,
                            spec=item[method],
                            path_parameters=tuple(item.get("parameters", ())),
                        )
                    )

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for ``method path`` (path under ``basePath``), literal templates first."""
        found: list[tuple[int, Operation, dict[str, str]]] = []
        for op in self.operations:
            match = op.pattern.fullmatch(path)
            if match and op.method == method.upper():
                literal = len(re.sub(r"{[^}]+}", "", op.template))
                found.append((literal, op, dict(zip(op.names, match.groups(), strict=True))))
        if not found:
            return None
        _, op, values = max(found, key=lambda row: row[0])
        return op, values

    def validate(
        self,
        *,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: Any,
    ) -> list[str]:
        """Every way the request breaks the Swagger (empty when it conforms)."""
        prefix = self.base_path.rstrip("/")
        if prefix and path != prefix and not path.startswith(prefix + "/"):
            return [f"{path} is outside basePath {self.base_path}"]
        found = self.find(method, path[len(prefix) :] or "/")
        if found is None:
            return [f"no operation {method} {path} in the Swagger"]
        op, path_values = found
        errors: list[str] = []
        lower_headers = {k.lower(): v for k, v in headers.items()}
        declared_query: set[str] = set()
        body_parameter: tuple[Mapping[str, Any], str] | None = None
        for parameter, pointer in self._parameters(op):
            name, where = parameter["name"], parameter["in"]
            if where == "body":
                body_parameter = parameter, pointer
                continue
            if where == "query":
                declared_query.add(name)
            values: list[str] | None
            if where == "path":
                values = [path_values[name]] if name in path_values else None
            elif where == "query":
                values = list(query[name]) if name in query else None
            elif where == "header":
                values = [lower_headers[name.lower()]] if name.lower() in lower_headers else None
            else:  # formData: this API has none
                values = None
            if values is None:
                if parameter.get("required"):
                    errors.append(f"{op.operation_id}: required {where} parameter {name!r} is missing")
                continue
            errors += [
                f"{op.operation_id}: {where} parameter {name!r}: {e}" for e in self._parameter_errors(parameter, values)
            ]
        errors += [
            f"{op.operation_id}: undeclared query parameter {name!r}" for name in sorted(set(query) - declared_query)
        ]
        if body_parameter is None:
            if body is not None:
                errors.append(f"{op.operation_id}: sends a body but the operation declares none")
        elif body is None:
            if body_parameter[0].get("required"):
                errors.append(f"{op.operation_id}: the required JSON body is missing")
        else:
            errors += [f"{op.operation_id}: body: {e}" for e in self.schema_errors(body_parameter[1] + "/schema", body)]
        errors += self._security_errors(op, lower_headers, query)
        return errors

    def schema_errors(self, pointer: str, instance: Any) -> list[str]:
        """Errors of ``instance`` against the schema at JSON pointer ``pointer`` of the document."""
        validator = Draft4Validator({"$ref": SPEC_URI + pointer}, registry=self.registry)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
        ]

    # -- private --------------------------------------------------------------------------
    def _parameters(self, op: Operation) -> list[tuple[Mapping[str, Any], str]]:
        """``(parameter, JSON pointer)``: path-level ones overridden by the operation's (by name and location).

        ``$ref`` parameters are resolved; the pointer is where the parameter object really is.
        """
        located = [(p, _pointer("paths", op.template, "parameters", str(i))) for i, p in enumerate(op.path_parameters)]
        located += [
            (p, _pointer("paths", op.template, op.method.lower(), "parameters", str(i)))
            for i, p in enumerate(op.spec.get("parameters", ()))
        ]
        merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        for parameter, pointer in located:
            if "$ref" in parameter:
                pointer = str(parameter["$ref"])
                parameter = self.registry.resolver().lookup(SPEC_URI + pointer).contents
            merged[(parameter["name"], parameter["in"])] = (parameter, pointer)
        return list(merged.values())

    def _parameter_errors(self, parameter: Mapping[str, Any], values: list[str]) -> list[str]:
        kind = parameter.get("type", "string")
        if kind == "array":
            separator = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}.get(
                parameter.get("collectionFormat", "csv")
            )
            items = values if separator is None else [part for value in values for part in value.split(separator)]
            instance: Any = [_coerce(parameter.get("items", {}).get("type", "string"), item) for item in items]
        elif len(values) != 1:
            return [f"sent {len(values)} times"]
        else:
            instance = _coerce(kind, values[0])
        keywords = ("type", "format", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength", "items")
        schema = {key: parameter[key] for key in keywords if key in parameter}
        return [e.message for e in Draft4Validator(schema).iter_errors(instance)]

    def _security_errors(self, op: Operation, headers: Mapping[str, str], query: Mapping[str, list[str]]) -> list[str]:
        requirements = op.spec.get("security", self.spec.get("security", []))
        if not requirements:
            return []
        definitions = self.spec.get("securityDefinitions", {})
        for requirement in requirements:
            met = True
            for name in requirement:
                scheme = definitions[name]
                if scheme["type"] == "apiKey":
                    where = headers if scheme["in"] == "header" else query
                    key = scheme["name"].lower() if scheme["in"] == "header" else scheme["name"]
                    met = met and key in where
                else:  # basic / oauth2 are not used by this API
                    met = False
            if met:
                return []
        return [f"{op.operation_id}: no security requirement is met ({requirements})"]


def _coerce(kind: str, value: str) -> Any:
    """A query/path/header string as the JSON value of its declared type (left a string if it is not one)."""
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded = json.loads(spec_path().read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def contract(spec: dict[str, Any]) -> SwaggerContract:
    return SwaggerContract(spec)


@pytest.fixture(scope="module")
def sim() -> Tele2Simulator:
    return Tele2Simulator()


@pytest.fixture(scope="module")
def server(sim: Tele2Simulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(sim.build_app()) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(sim: Tele2Simulator) -> None:
    sim.reset()


def recorded(server: LoopbackServer) -> list[dict[str, Any]]:
    answer = httpx.get(server.url + "/_sim/requests")
    answer.raise_for_status()
    rows = answer.json()
    assert isinstance(rows, list)
    return rows


def headers_of(row: Mapping[str, Any]) -> dict[str, str]:
    return {"Authorization": row["authorization"]} if row["authorization"] is not None else {}


def inferred(method: str, path: str) -> bool:
    """True when ``method path`` (under ``/api/v2``) is one of the adapter's ``inferred`` endpoints."""
    for endpoint in ENDPOINTS.values():
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape("/api/v2" + endpoint.path))
        if endpoint.source == "inferred" and endpoint.method == method and re.fullmatch(pattern, path):
            return True
    return False


# -- the document ---------------------------------------------------------------------------------
def test_vendored_copy_matches_the_shared_one() -> None:
    vendored = VENDORED_SPEC.read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == SPEC_SHA256
    assert "MIT" in (VENDORED_SPEC.parent / "NOTICE").read_text(encoding="utf-8")
    if not SHARED_SPEC.is_file():
        pytest.skip("shared/ is not checked out beside the repository")
    assert SHARED_SPEC.read_bytes() == vendored


def test_default_base_url_is_the_swaggers_host(spec: dict[str, Any]) -> None:
    assert spec["schemes"] == ["https"]
    assert f"https://{spec['host']}{spec['basePath']}" == DEFAULT_BASE_URL
    assert str(Tele2Config(api_key="k").base_url) == DEFAULT_BASE_URL
    assert spec["securityDefinitions"] == {"API Key": {"type": "apiKey", "in": "header", "name": "Authorization"}}


def test_endpoint_table_matches_the_swagger(contract: SwaggerContract) -> None:
    for name, endpoint in ENDPOINTS.items():
        events = WEBHOOK_EVENTS if "{event}" in endpoint.path else ("",)
        for path in sorted({endpoint.path.replace("{event}", event) for event in events}):
            templated = re.sub(r"{[^}]+}", "7", path)
            listed = contract.find(endpoint.method, templated) is not None
            assert listed == (endpoint.source == "public"), f"{name}: {endpoint.method} {path} tagged {endpoint.source}"


def test_webhook_events_are_the_swaggers(spec: dict[str, Any]) -> None:
    subscribe = {
        p.rsplit("/", 1)[1] for p, item in spec["paths"].items() if p.startswith("/webhooks/") and "post" in item
    }
    assert subscribe == set(WEBHOOK_EVENTS) == set(wire.WEBHOOK_PAYLOADS)


@pytest.mark.parametrize("event", WEBHOOK_EVENTS)
def test_payload_models_have_the_swaggers_fields(spec: dict[str, Any], event: str) -> None:
    schema = spec["paths"][f"/webhooks/{event}"]["x-ms-notification-content"]["schema"]
    assert set(schema["properties"]) == set(wire.WebhookEnvelope.model_fields)
    extras = CAPTURED_EXTRAS.get(event, set())
    assert set(schema["properties"]["data"]["properties"]) | extras == set(wire.WEBHOOK_PAYLOADS[event].model_fields)


#: Callback fields the Swagger's ``x-ms-notification-content`` omits but real callbacks carry
#: (``tests/fixtures/tele2/captured/``): ``callEnded`` on CallCompleted (and its subclass CallTransfered).
CAPTURED_EXTRAS: dict[str, set[str]] = {"CallCompleted": {"callEnded"}, "CallTransfered": {"callEnded"}}


def test_lost_call_rows_have_the_swaggers_fields(spec: dict[str, Any]) -> None:
    """S1 ``GET /lost_calls`` (GetLostCalls; seed 003 "Get lost calls" ~448-500): the rows are the
    LostCallerAdded callback's fields, so one model reads both."""
    item = spec["paths"]["/lost_calls"]["get"]["responses"]["200"]["schema"]["properties"]["data"]["items"]
    assert set(item["properties"]) == set(wire.LostCallerAddedData.model_fields)
    parameters = {p["name"]: p for p in spec["paths"]["/lost_calls"]["get"]["parameters"]}
    assert set(parameters) == {"limit", "offset", "destination", "date_from", "date_to"}
    assert not any(p.get("required") for p in parameters.values())


def test_employee_model_has_the_swaggers_fields(spec: dict[str, Any]) -> None:
    answer = spec["paths"]["/trigger/contacts"]["get"]["responses"]["200"]["schema"]["properties"]
    assert set(answer) == set(wire.Envelope.model_fields)
    item = answer["data"]["items"]["properties"]
    assert set(item) == set(wire.Employee.model_fields)
    assert set(item["group_membership"]["items"]["properties"]) == set(wire.GroupMembership.model_fields)


# -- the checker itself ---------------------------------------------------------------------------
AUTH = {"Authorization": "Bearer k"}
DIAL_BODY = {"destination": "+37069912345", "contactID": 101}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "problem"),
    [
        ("GET", "/api/v2/calls", {}, AUTH, None, "no operation GET /api/v2/calls"),
        ("GET", "/api/v2/dial", {}, AUTH, None, "no operation GET /api/v2/dial"),
        ("POST", "/dial", {}, AUTH, DIAL_BODY, "outside basePath"),
        ("POST", "/api/v2/dial", {}, {}, DIAL_BODY, "no security requirement"),
        ("POST", "/api/v2/dial", {}, AUTH, None, "required JSON body is missing"),
        ("POST", "/api/v2/dial", {}, AUTH, {"destination": "+37069912345"}, "'contactID' is a required property"),
        ("POST", "/api/v2/dial", {}, AUTH, {**DIAL_BODY, "contactID": "101"}, "contactID: '101' is not of type"),
        ("POST", "/api/v2/dial", {"to": ["x"]}, AUTH, DIAL_BODY, "undeclared query parameter 'to'"),
        ("GET", "/api/v2/trigger/contacts", {"limit": ["5"]}, AUTH, None, "'initial_contact_id' is missing"),
        ("GET", "/api/v2/trigger/contacts", {"initial_contact_id": ["x"]}, AUTH, None, "'x' is not of type 'integer'"),
        ("GET", "/api/v2/trigger/contacts", {"initial_contact_id": ["0", "1"]}, AUTH, None, "sent 2 times"),
        ("GET", "/api/v2/trigger/contacts", {"initial_contact_id": ["0"]}, AUTH, {"a": 1}, "declares none"),
        ("DELETE", "/api/v2/webhooks/abc", {}, AUTH, None, "'abc' is not of type 'integer'"),
        ("POST", "/api/v2/webhooks/LostCallerAdded", {}, AUTH, {}, "'endpoint' is a required property"),
        ("POST", "/api/v2/webhooks/LostCallAdded", {}, AUTH, {"endpoint": "https://x"}, "no operation"),
    ],
)
def test_the_checker_catches(
    contract: SwaggerContract,
    method: str,
    path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: Any,
    problem: str,
) -> None:
    errors = contract.validate(method=method, path=path, query=query, headers=headers, body=body)
    assert any(problem in error for error in errors), errors


def test_the_checker_passes_good_requests_and_resolves_refs(contract: SwaggerContract) -> None:
    good = [
        ("POST", "/api/v2/dial", {}, DIAL_BODY),
        ("GET", "/api/v2/trigger/contacts", {"initial_contact_id": ["0"], "limit": ["100"], "offset": ["0"]}, None),
        ("DELETE", "/api/v2/webhooks/12", {}, None),
        ("POST", "/api/v2/webhooks/CallTransfered", {}, {"endpoint": "https://bot.example/x"}),
    ]
    for method, path, query, body in good:
        assert contract.validate(method=method, path=path, query=query, headers=AUTH, body=body) == []
    thing = {"type": "object", "required": ["part"], "properties": {"part": {"$ref": "#/definitions/Part"}}}
    with_refs = SwaggerContract(
        {
            "swagger": "2.0",
            "basePath": "/",
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "type": "integer"},
                "Body": {"name": "b", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Thing"}},
            },
            "definitions": {"Thing": thing, "Part": {"type": "integer"}},
            "paths": {
                "/things/{id}": {
                    "parameters": [{"$ref": "#/parameters/Id"}],
                    "put": {"parameters": [{"$ref": "#/parameters/Body"}]},
                    "post": {"parameters": [{"name": "b", "in": "body", "schema": {"$ref": "#/definitions/Thing"}}]},
                }
            },
        }
    )

    def check(method: str, path: str, body: Any) -> list[str]:
        return with_refs.validate(method=method, path=path, query={}, headers={}, body=body)

    assert check("PUT", "/things/1", {"part": 2}) == check("POST", "/things/1", {"part": 2}) == []
    assert check("POST", "/things/1", None) == []  # an optional body
    assert check("PUT", "/things/1", None) == ["PUT /things/{id}: the required JSON body is missing"]
    assert check("PUT", "/things/x", {"part": "two"}) == [
        "PUT /things/{id}: path parameter 'id': 'x' is not of type 'integer'",
        "PUT /things/{id}: body: part: 'two' is not of type 'integer'",
    ]


# -- the adapter's requests -----------------------------------------------------------------------
async def exercise(adapter: Tele2Adapter) -> None:
    """Every request shape the adapter has: dial, employee pages, webhook list/subscribe/delete."""
    target = "https://bot.example/webhooks/tele2/token/{event}"
    try:
        await adapter.dial(VendorIdentity(vendor="tele2", user_id="101"), "+37069912345")
        await adapter.poll_alerts(None, now=datetime.now(UTC))
        await adapter.list_users(adapter.service_identity())
        await adapter.search_contacts(adapter.service_identity(), "Jonas")
        await adapter.ensure_webhooks(target, list(WEBHOOK_EVENTS)[:8])
        await adapter.ensure_webhooks(target, list(WEBHOOK_EVENTS))
        await adapter.prune_webhooks(target, everything=True)
        await adapter.remove_webhooks(target)
    finally:
        await adapter.aclose()


def conforming(contract: SwaggerContract, rows: list[dict[str, Any]]) -> set[str]:
    """Assert each row (method, path, query, authorization, body) fits the Swagger; the operations used."""
    outside = {(r["method"], r["path"]) for r in rows if inferred(r["method"], r["path"])}
    assert outside <= {("GET", "/api/v2/webhooks")}
    covered: set[str] = set()
    for row in rows:
        if inferred(row["method"], row["path"]):
            continue
        errors = contract.validate(
            method=row["method"], path=row["path"], query=row["query"], headers=headers_of(row), body=row["body"]
        )
        assert errors == [], f"{row['method']} {row['path']}: {errors}"
        found = contract.find(row["method"], row["path"].removeprefix("/api/v2"))
        assert found is not None
        covered.add(found[0].operation_id)
        assert row["authorization"] == f"Bearer {API_KEY}"  # the Readme: "Bearer <api_key>"
    return covered


EVERY_OPERATION = {"Dial", "GetContacts", "GetLostCalls", "DeleteWebhookByID", *WEBHOOK_EVENTS}


async def test_every_request_to_the_simulator_conforms(contract: SwaggerContract, server: LoopbackServer) -> None:
    try:
        await exercise(Tele2Adapter(Tele2Config(base_url=server.url + "/api/v2/", api_key=API_KEY)))
    finally:  # a request the simulator refused is reported as the contract breach it is
        covered = conforming(contract, recorded(server))
    assert covered == EVERY_OPERATION
    assert ("GET", "/api/v2/webhooks") in {(r["method"], r["path"]) for r in recorded(server)}


async def test_every_request_conforms_whatever_the_server_accepts(contract: SwaggerContract) -> None:
    """The same check behind a permissive fake, so a lenient simulator cannot hide a bad request."""
    rows: list[dict[str, Any]] = []
    subscribed: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        rows.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": {key: request.url.params.get_list(key) for key in request.url.params},
                "authorization": request.headers.get("authorization"),
                "body": body,
            }
        )
        path = request.url.path.removeprefix("/api/v2")
        data: Any = {}
        if path == "/trigger/contacts":
            data = [{"contactID": 101, "firstname": "Aist\u0117", "lastname": "Kazlauskien\u0117"}]
        elif path == "/lost_calls":
            data = [{"callerid": "69912345", "destination": "52000100", "attempts": 1}]
        elif path == "/webhooks" and request.method == "GET":
            data = list(subscribed)
        elif request.method == "POST" and path.startswith("/webhooks/"):
            event, endpoint = path.rsplit("/", 1)[1], (body or {}).get("endpoint")
            subscribed.append({"id": len(subscribed) + 1, "event": event, "endpoint": endpoint})
            data = str(len(subscribed))
        return httpx.Response(200, json={"status": "success", "statusCode": 200, "message": "OK", "data": data})

    config = Tele2Config(base_url="https://mobili-stotele.tele2.lt/api/v2/", api_key=API_KEY)
    try:
        await exercise(Tele2Adapter(config, transport=httpx.MockTransport(answer)))
    finally:
        covered = conforming(contract, rows)
    assert covered == EVERY_OPERATION


# -- the simulator speaks the same API --------------------------------------------------------------
def closed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with no undeclared property allowed anywhere, and every declared envelope field present.

    The Swagger's answer schemas declare no ``required`` and allow anything more, so ``{}`` or an
    answer full of invented fields would pass them; closed, they fail on a field the Swagger doesn't
    have. :func:`answer_errors` also requires the envelope's five fields: 003 prints ``version``,
    ``status``, ``statusCode`` and ``message`` in every operation's answer (Dial: 003 ~105-123) and
    ``data`` in every one that has content; the Swagger declares ``data`` for Dial too (``{}``).
    """
    copied = dict(schema)
    if "properties" in schema:
        copied["properties"] = {name: closed(sub) for name, sub in schema["properties"].items()}
        copied["additionalProperties"] = False
    if isinstance(schema.get("items"), Mapping):
        copied["items"] = closed(schema["items"])
    return copied


def answer_errors(contract: SwaggerContract, method: str, path: str, answer: Any) -> list[str]:
    """Errors of a 200 answer to ``method path`` against the closed copy of its Swagger schema."""
    found = contract.find(method, path)
    assert found is not None, f"{method} {path} is not in the Swagger"
    schema = closed(found[0].spec["responses"]["200"]["schema"])
    schema["required"] = ["version", "status", "statusCode", "message", "data"]
    validator = Draft4Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(answer)]


SIMULATED_CALLS: list[tuple[str, str, dict[str, Any], Any]] = [
    ("POST", "/dial", {}, DIAL_BODY),
    ("GET", "/trigger/contacts", {"initial_contact_id": 0, "limit": 2}, None),
    ("GET", "/lost_calls", {"limit": 100, "offset": 0, "date_from": "2020-01-01T00:00:00Z"}, None),
    *[("POST", f"/webhooks/{event}", {}, {"endpoint": f"https://bot.example/x/{event}"}) for event in WEBHOOK_EVENTS],
    ("DELETE", "/webhooks/1", {}, None),
]


def test_simulator_answers_fit_the_closed_swagger(
    contract: SwaggerContract, sim: Tele2Simulator, server: LoopbackServer
) -> None:
    """Every answer the adapter reads, all ten subscriptions included, has only the Swagger's fields, typed."""
    sim.lose_call("+37069912345", contact_name="UAB Medis")
    with httpx.Client(base_url=server.url + "/api/v2", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        for method, path, params, body in SIMULATED_CALLS:
            answer = http.request(method, path, params=params, json=body)
            assert answer.status_code == 200, answer.text
            assert answer_errors(contract, method, path, answer.json()) == [], f"{method} {path}"
            data = answer.json()["data"]
            assert data != [] and data is not None  # a real answer, not an empty one that fits anything
    assert len(sim.subscriptions()) >= len(WEBHOOK_EVENTS)


@pytest.mark.parametrize(
    ("path", "change", "expected"),
    [
        ("/lost_calls", lambda a: a["data"][0].update(caller_id="1"), "'caller_id' was unexpected"),
        ("/lost_calls", lambda a: a["data"][0].update(attempts="1"), "'1' is not of type 'integer'"),
        ("/trigger/contacts", lambda a: a["data"][0]["group_membership"][0].update(x=1), "'x' was unexpected"),
        ("/trigger/contacts", lambda a: a.pop("statusCode"), "'statusCode' is a required property"),
        ("/webhooks/CallStarted", lambda a: a.update(data=7), "7 is not of type 'string'"),
        ("/dial", lambda a: a.update(data=[]), "[] is not of type 'object'"),
    ],
    ids=["extra-field", "wrong-type", "nested-extra", "no-status-code", "subscribe-data", "dial-data"],
)
def test_the_closed_schemas_catch_a_drifting_answer(
    contract: SwaggerContract, path: str, change: Any, expected: str
) -> None:
    method = "GET" if path in ("/lost_calls", "/trigger/contacts") else "POST"
    answer = schema_shaped(contract, method, path)
    assert answer_errors(contract, method, path, answer) == []
    change(answer)
    assert any(expected in error for error in answer_errors(contract, method, path, answer)), expected


#: Values for the schema-shaped answers, by field name: what the Swagger's types admit and 003 describes.
SHAPED_VALUES: dict[str, Any] = {
    "callerid": "69912345",
    "destination": "52000100",
    "contact_name": "UAB Medis",
    "last_contact": "2026-12-03T08:55:00+02:00",
    "attempts": 2,
    "contactID": 101,
    "firstname": "Aist\u0117",
    "lastname": "Kazlauskien\u0117",
    "number": "861000101",
    "archived": 0,
    "status": "success",
    "statusCode": 200,
}


def shaped(schema: Mapping[str, Any], name: str = "") -> Any:
    """An instance of ``schema`` with every declared field filled (from :data:`SHAPED_VALUES` when named)."""
    kind = schema.get("type")
    if kind == "object":
        return {key: shaped(sub, key) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [shaped(schema.get("items", {}), name)]
    if name in SHAPED_VALUES:
        return SHAPED_VALUES[name]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(str(kind), f"{name}-value")


def schema_shaped(contract: SwaggerContract, method: str, path: str) -> dict[str, Any]:
    found = contract.find(method, path)
    assert found is not None
    answer = shaped(found[0].spec["responses"]["200"]["schema"])
    assert isinstance(answer, dict)
    return answer


async def test_the_adapter_reads_answers_shaped_by_the_swagger(contract: SwaggerContract) -> None:
    """Every field the Swagger declares present at once (not just the simulator's): the adapter still reads them."""
    answers = {
        path: schema_shaped(contract, method, path)
        for method, path in (("GET", "/lost_calls"), ("GET", "/trigger/contacts"), ("POST", "/dial"))
    }
    for method, path in (("GET", "/lost_calls"), ("GET", "/trigger/contacts"), ("POST", "/dial")):
        assert answer_errors(contract, method, path, answers[path]) == []

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path.removeprefix("/api/v2")])

    adapter = Tele2Adapter(
        Tele2Config(base_url=DEFAULT_BASE_URL, api_key=API_KEY), transport=httpx.MockTransport(answer)
    )
    try:
        [user] = await adapter.list_users(adapter.service_identity())
        polled = await adapter.poll_alerts(None, now=datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
        dialled = await adapter.dial(VendorIdentity(vendor="tele2", user_id="101"), "+37069912345")
    finally:
        await adapter.aclose()
    assert (user.user_id, user.name, user.number) == ("101", "Aist\u0117 Kazlauskien\u0117", "+37061000101")
    [opened] = polled.events
    assert (opened.subject, opened.caller_name, opened.attempts) == ("lost:+37069912345:+37052000100", "UAB Medis", 2)
    assert opened.occurred_at == datetime(2026, 12, 3, 6, 55, tzinfo=UTC)
    assert dialled is not None


@pytest.mark.parametrize("event", WEBHOOK_EVENTS)
async def test_simulated_callbacks_fit_the_swagger_and_parse(
    contract: SwaggerContract, sim: Tele2Simulator, event: str
) -> None:
    body = sim.webhook_body(event)
    schema = contract.spec["paths"][f"/webhooks/{event}"]["x-ms-notification-content"]["schema"]
    assert (
        contract.schema_errors(_pointer("paths", f"/webhooks/{event}", "x-ms-notification-content", "schema"), body)
        == []
    )
    documented = set(schema["properties"]["data"]["properties"])
    assert documented <= set(body["data"]) <= documented | CAPTURED_EXTRAS.get(event, set())  # realistic values
    adapter = Tele2Adapter(Tele2Config(api_key="k"))
    try:
        [alert] = adapter.parse_webhook(json.dumps(body).encode(), {}, path="")
    finally:
        await adapter.aclose()
    assert alert.detail["event"] == event
