"""A stateful Mobili Stotele REST API v2 simulator, for tests and ``phonebot console --simulate``.

It serves the subset :class:`~adapters.tele2.adapter.Tele2Adapter` uses, under ``/api/v2``, and
behaves like the vendor where it matters: every answer is the ``{"version", "status",
"statusCode", "message", "data"}`` envelope; a missing or unknown ``Authorization: Bearer <key>``
gets 401; lists that match nothing answer ``404 No items found``; ``/trigger/contacts`` insists on
``initial_contact_id`` and returns newest first; ``POST /dial`` checks both required fields and
records the dial in :attr:`Tele2Simulator.dials`; ``POST /webhooks/<Event>`` answers the new id as
the string ``data`` (and a ``Location`` header), and the 21st webhook of the account gets ``403
Webhook limit reached``. ``GET /webhooks`` is served although the Swagger does not publish it
(the adapter infers it; see ``paths.py``). Fault injection and request recording come from
:class:`SimulatorBase`.

:meth:`Tele2Simulator.send_webhook` plays the vendor's side of webhooks: it POSTs a callback body
built from the Swagger's ``x-ms-notification-content`` schema of the event (values from the demo
company) to every subscription of that event, so end-to-end tests get real deliveries. The
``eventType`` strings are the vendor-side names the Swagger's descriptions use
("LostCallerCreated", …): what the live service sends is undocumented.

Usage::

    sim = Tele2Simulator()
    with LoopbackServer(sim.build_app()) as server:
        adapter = Tele2Adapter(Tele2Config(base_url=server.url + "/api/v2/", api_key=API_KEY))
        await adapter.dial(VendorIdentity(vendor="tele2", user_id="101"), "+37069912345")
        assert sim.dials[-1].destination == "+37069912345"

Demo company (Lithuanian numbers): employees 101 Aistė Kazlauskienė, 102 Jonas Petrauskas,
103 Carol Christensen (the demo Slack workspace's Vilnius colleague), 104 Tomas Stankevičius
(archived); groups 201 "Klientų aptarnavimas" (101, 103) and 202 "Pardavimai" (102); main line
+37052000100; two webhooks that are not phonebot's (someone's Power Automate flows).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.simulation import SimulatorBase
from adapters.tele2.paths import WEBHOOK_EVENTS

Json = dict[str, Any]
Handler = Callable[[Request], Awaitable[Response]]

API_KEY = "tele2-demo-key"
API_VERSION = "2.0"
WEBHOOK_LIMIT = 20
MAIN_LINE = "+37052000100"
SUPPORT_LINE = "+37052000200"
ZONE = ZoneInfo("Europe/Vilnius")
#: Someone else's subscriptions (``.invalid`` never resolves, so deliveries to them fail fast).
FOREIGN_WEBHOOKS: tuple[tuple[str, str], ...] = (
    ("CallCompleted", "https://flows.power-automate.invalid/call-completed"),
    ("VoicemailCreated", "https://flows.power-automate.invalid/voicemail"),
)
#: ``eventType`` per event, as the Swagger's descriptions name them (the live strings are undocumented).
EVENT_TYPES: dict[str, str] = {
    **{name: name for name in WEBHOOK_EVENTS},
    "LostCallerAdded": "LostCallerCreated",
    "LostCallerRemoved": "LostCallerDeleted",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _local(moment: datetime) -> str:
    """Vendor-style local time (``2026-10-06 12:58:00``): the format is undocumented, this is a guess."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def _envelope(data: Any, *, status: int = 200, message: str = "OK") -> Json:
    return {
        "version": API_VERSION,
        "status": "success" if status < 400 else "error",
        "statusCode": status,
        "message": message,
        "data": data,
    }


def _answer(data: Any, *, status: int = 200, message: str = "OK", headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(_envelope(data, status=status, message=message), status_code=status, headers=headers)


def _error(status: int, message: str) -> Response:
    return _answer([] if status == 404 else {}, status=status, message=message)


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # not an integer: every caller answers 422 for a negative value


@dataclass(frozen=True)
class SimulatedDial:
    """One ``POST /dial``: whose device rang first, and the number dialled after."""

    contact_id: int
    destination: str
    at: datetime


@dataclass(frozen=True)
class WebhookDelivery:
    """One callback the simulator POSTed, and how the receiver answered (``0``: unreachable)."""

    event: str
    endpoint: str
    body: Json
    status_code: int


@dataclass
class Tele2Simulator(SimulatorBase):
    """Mobili Stotele's API over a small demo company; see the module docstring.

    Args:
        api_keys: keys the API accepts as ``Authorization: Bearer <key>``.
        clock: current aware UTC time; stamps dials, webhooks and callback payloads.
        prefix: path prefix of the API (the real one is ``/api/v2``).
        webhook_limit: webhooks one account may hold (Tele2: 20).
        echo_ids: answer a subscribe with the new id as ``data``; ``False`` answers a bare text
            (what the live service returns there is undocumented).
    """

    api_keys: set[str] = field(default_factory=lambda: {API_KEY})
    clock: Callable[[], datetime] = field(default_factory=lambda: _utcnow)
    prefix: str = "/api/v2"
    webhook_limit: int = WEBHOOK_LIMIT
    echo_ids: bool = True
    employees: dict[int, Json] = field(default_factory=dict, init=False)
    groups: dict[int, Json] = field(default_factory=dict, init=False)
    webhooks: dict[int, Json] = field(default_factory=dict, init=False)
    dials: list[SimulatedDial] = field(default_factory=list, init=False)
    deliveries: list[WebhookDelivery] = field(default_factory=list, init=False)
    canned: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._seed()

    # -- helpers for tests ----------------------------------------------------------------
    def reset(self) -> None:
        """Back to the demo data: no dials, deliveries, requests, faults or canned answers."""
        self.dials.clear()
        self.deliveries.clear()
        self.requests.clear()
        self.canned.clear()
        self.clear_faults()
        self._seed()

    def employee(self, contact_id: int) -> Json:
        """The live employee record (mutate it to set up a scenario)."""
        return self.employees[contact_id]

    def add_webhook(self, event: str, endpoint: str) -> Json:
        """Subscribe ``endpoint`` to ``event`` directly, as if done in the panel (the limit is not checked)."""
        webhook_id = next(self._ids)
        webhook = {"id": webhook_id, "event": event, "endpoint": endpoint, "created": _local(self.clock())}
        self.webhooks[webhook_id] = webhook
        return webhook

    def subscriptions(self, event: str | None = None) -> list[Json]:
        """The account's webhooks (of ``event`` only, when given), oldest first."""
        return [copy.deepcopy(w) for w in self.webhooks.values() if event is None or w["event"] == event]

    def respond_with(self, method: str, path: str, body: Any, *, status: int = 200) -> None:
        """Answer ``method path`` (relative to the prefix) with ``body`` as JSON until :meth:`reset`."""
        self.canned[(method.upper(), self.prefix + path)] = (status, body)

    def webhook_body(self, event: str, payload_overrides: Json | None = None) -> Json:
        """A realistic callback body for ``event``; ``payload_overrides`` replace fields of ``data``."""
        if event not in WEBHOOK_EVENTS:
            raise ValueError(f"unknown webhook event {event!r}; known: {', '.join(WEBHOOK_EVENTS)}")
        data = self._payload(event)
        data.update(payload_overrides or {})
        return {"type": "webhook", "version": API_VERSION, "eventType": EVENT_TYPES[event], "data": data}

    async def send_webhook(self, event_type: str, payload_overrides: Json | None = None) -> httpx.Response:
        """POST one ``event_type`` callback to every subscription of it, as Tele2 would.

        Every delivery is appended to :attr:`deliveries`; an unreachable subscriber is recorded
        with status ``0`` and skipped. Returns the first answer that was not 2xx, else the last one.

        Raises:
            LookupError: nobody subscribed to ``event_type``.
            httpx.TransportError: no subscriber could be reached at all.
        """
        body, targets = self._delivery(event_type, payload_overrides)
        answers: list[httpx.Response | httpx.TransportError] = []
        async with httpx.AsyncClient(timeout=5.0) as client:
            for endpoint in targets:
                try:
                    answers.append(await client.post(endpoint, json=body))
                except httpx.TransportError as exc:
                    answers.append(exc)
        return self._record(event_type, targets, body, answers)

    def send_webhook_sync(self, event_type: str, payload_overrides: Json | None = None) -> httpx.Response:
        """The blocking twin of :meth:`send_webhook`."""
        body, targets = self._delivery(event_type, payload_overrides)
        answers: list[httpx.Response | httpx.TransportError] = []
        with httpx.Client(timeout=5.0) as client:
            for endpoint in targets:
                try:
                    answers.append(client.post(endpoint, json=body))
                except httpx.TransportError as exc:
                    answers.append(exc)
        return self._record(event_type, targets, body, answers)

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The Mobili Stotele API routes under :attr:`prefix`."""
        table: list[tuple[str, str, Handler]] = [
            ("POST", "/dial", self._dial),
            ("GET", "/trigger/contacts", self._list_contacts),
            ("GET", "/webhooks", self._list_webhooks),
            ("POST", "/webhooks/{event}", self._subscribe),
            ("DELETE", "/webhooks/{webhook_id}", self._unsubscribe),
        ]
        return [Route(self.prefix + path, self._guarded(handler), methods=[method]) for method, path, handler in table]

    def _guarded(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            canned = self.canned.get((request.method, request.url.path))
            if canned is not None:
                status, body = canned
                return JSONResponse(body, status_code=status)
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or key.strip() not in self.api_keys:
                return _error(401, "Unauthorized")
            return await handler(request)

        return endpoint

    async def _dial(self, request: Request) -> Response:
        body = await _json_body(request)
        destination = body.get("destination") if isinstance(body, dict) else None
        contact_id = body.get("contactID") if isinstance(body, dict) else None
        if not isinstance(destination, str) or not isinstance(contact_id, int) or isinstance(contact_id, bool):
            return _error(422, "Unprocessable Entity: destination (string) and contactID (integer) are required")
        digits = destination[1:] if destination.startswith("+") else destination
        if not digits.isdigit() or not 3 <= len(digits) <= 15:
            return _error(422, "Unprocessable Entity: destination is not a phone number")
        employee = self.employees.get(contact_id)
        if employee is None or employee["archived"]:
            return _error(404, "No items found")
        self.dials.append(SimulatedDial(contact_id=contact_id, destination=destination, at=self.clock()))
        return _answer({}, message="Call initiated")

    async def _list_contacts(self, request: Request) -> Response:
        initial = _int_param(request, "initial_contact_id")
        limit = _int_param(request, "limit")
        offset = _int_param(request, "offset") or 0
        contact_id = _int_param(request, "contact_id")
        if initial is None or initial < 0 or (limit is not None and limit < 1) or offset < 0:
            return _error(422, "Unprocessable Entity: initial_contact_id is required; limit and offset are integers")
        rows = sorted((e for e in self.employees.values() if e["contactID"] > initial), key=lambda e: -e["contactID"])
        if contact_id is not None:
            rows = [e for e in rows if e["contactID"] == contact_id]
        page = rows[offset : offset + (limit or 25)]
        if not page:
            return _error(404, "No items found")
        return _answer(copy.deepcopy(page))

    async def _list_webhooks(self, request: Request) -> Response:
        if not self.webhooks:
            return _error(404, "No items found")
        return _answer(self.subscriptions())

    async def _subscribe(self, request: Request) -> Response:
        event = request.path_params["event"]
        if event not in WEBHOOK_EVENTS:
            return _error(404, "Not Found")
        body = await _json_body(request)
        endpoint = body.get("endpoint") if isinstance(body, dict) else None
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return _error(422, "Unprocessable Entity: endpoint must be a URL")
        if len(self.webhooks) >= self.webhook_limit:
            return _error(403, "Webhook limit reached")
        webhook = self.add_webhook(event, endpoint)
        location = f"{request.base_url}".rstrip("/") + f"{self.prefix}/webhooks/{webhook['id']}"
        data = str(webhook["id"]) if self.echo_ids else "Webhook created"
        return _answer(data, message="Webhook created", headers={"Location": location})

    async def _unsubscribe(self, request: Request) -> Response:
        raw = request.path_params["webhook_id"]
        if not raw.isdigit():
            return _error(422, "Unprocessable Entity: webhook_id is an integer")
        if self.webhooks.pop(int(raw), None) is None:
            return _error(404, "No items found")
        return _answer({}, message="Webhook deleted")

    # -- webhook deliveries ---------------------------------------------------------------
    def _delivery(self, event: str, overrides: Json | None) -> tuple[Json, list[str]]:
        body = self.webhook_body(event, overrides)
        targets = [w["endpoint"] for w in self.webhooks.values() if w["event"] == event]
        if not targets:
            raise LookupError(f"no webhook subscribed to {event}")
        return body, targets

    def _record(
        self, event: str, targets: list[str], body: Json, answers: list[httpx.Response | httpx.TransportError]
    ) -> httpx.Response:
        for endpoint, answer in zip(targets, answers, strict=True):
            status = answer.status_code if isinstance(answer, httpx.Response) else 0
            self.deliveries.append(WebhookDelivery(event, endpoint, copy.deepcopy(body), status))
        reached = [answer for answer in answers if isinstance(answer, httpx.Response)]
        if not reached:
            failure = answers[-1]
            assert isinstance(failure, httpx.TransportError)
            raise failure
        return next((answer for answer in reached if not answer.is_success), reached[-1])

    def _payload(self, event: str) -> Json:
        """Demo values for every field the Swagger lists for ``event``, in its names and types."""
        now = self.clock()
        started = _local(now - timedelta(minutes=2))
        connected = _local(now - timedelta(seconds=100))
        call: Json = {
            "callID": 5001,
            "caller": "+37069912345",
            "destination": MAIN_LINE,
            "direction": "in",
            "status": 1,
            "callStarted": started,
            "contactID": 101,
        }
        lost: Json = {
            "contact_name": "UAB Medis",
            "destination": MAIN_LINE,
            "attempts": 1,
            "callerid": "+37069912345",
            "last_contact": _local(now),
        }
        voicemail: Json = {"sender": "+37069954321", "voicemailID": 7001}
        payloads: dict[str, Json] = {
            "CallStarted": call,
            "CallConnected": {**call, "callConnected": connected},
            "CallCompleted": {**call, "callConnected": connected, "connectionTime": 95, "previous_contactID": 0},
            "CallTransfered": {
                **call,
                "callConnected": connected,
                "connectionTime": 40,
                "contactID": 103,
                "previous_contactID": 101,
            },
            "CallRecorded": {
                "recordingID": 9001,
                "callID": 5001,
                "callStarted": started,
                "recordingURL": "https://mobili-stotele.tele2.lt/recordings/9001.mp3",
                "direction": "in",
                "connectionTime": 95,
            },
            "LostCallerAdded": lost,
            "LostCallerUpdated": {**lost, "attempts": 2},
            "LostCallerRemoved": {"destination": MAIN_LINE, "callerid": "+37069912345"},
            "VoicemailCreated": {
                **voicemail,
                "length": 23,
                "callStarted": started,
                "voicemailBoxID": 301,
                "voicemailBoxName": "Klientų aptarnavimas",
                "messageURL": "https://mobili-stotele.tele2.lt/voicemails/7001.mp3",
            },
            "VoicemailDeleted": voicemail,
        }
        return copy.deepcopy(payloads[event])

    # -- demo data ------------------------------------------------------------------------
    def _seed(self) -> None:
        created = _local(self.clock() - timedelta(days=400))
        self.groups = {
            201: {"groupID": 201, "name": "Klientų aptarnavimas", "type": 1, "created": created},
            202: {"groupID": 202, "name": "Pardavimai", "type": 1, "created": created},
        }
        members = {201: [101, 103], 202: [102]}
        people = [
            (101, "Aistė", "Kazlauskienė", "+37061000101", 0),
            (102, "Jonas", "Petrauskas", "+37061000102", 0),
            (103, "Carol", "Christensen", "+37061000103", 0),
            (104, "Tomas", "Stankevičius", "+37061000104", 1),
        ]
        self.employees = {}
        for contact_id, first, last, number, archived in people:
            self.employees[contact_id] = {
                "contactID": contact_id,
                "firstname": first,
                "lastname": last,
                "number": number,
                "current_callerid": MAIN_LINE,
                "archived": archived,
                "created": created,
                "avatar": "",
                "group_membership": [
                    {**group, "members": [{"contactID": m} for m in members[group_id]]}
                    for group_id, group in self.groups.items()
                    if contact_id in members[group_id]
                ],
            }
        self.webhooks = {}
        self._ids = itertools.count(1)
        for event, endpoint in FOREIGN_WEBHOOKS:
            self.add_webhook(event, endpoint)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
