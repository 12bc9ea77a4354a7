"""A stateful Mobili Stotele REST API v2 simulator, for tests and ``phonebot console --simulate``.

It serves the subset :class:`~adapters.tele2.adapter.Tele2Adapter` uses, under ``/api/v2``, and
behaves like the vendor where it matters: every answer is the ``{"version", "status",
"statusCode", "message", "data"}`` envelope; a missing or unknown ``Authorization: Bearer <key>``
gets 401; lists that match nothing answer ``404 No items found``; ``/trigger/contacts`` insists on
``initial_contact_id`` and returns newest first; ``GET /lost_calls`` (Swagger ``GetLostCalls``)
lists the open lost callers with ``limit``/``offset``/``destination``/``date_from``/``date_to``;
``POST /dial`` checks both required fields and records the dial in :attr:`Tele2Simulator.dials`;
``POST /webhooks/<Event>`` answers the new id as the string ``data`` (and a ``Location`` header),
and the 21st webhook of the account gets ``403 Webhook limit reached`` (seed, "Common errors").
There is **no** ``GET /webhooks``: the Swagger and the seed publish no way to list webhooks, so
the simulator answers it 404 like any unknown route (``serve_webhook_list=True`` serves the
inferred list, for tests of an account that has it). Fault injection and request recording come
from :class:`SimulatorBase`.

:meth:`Tele2Simulator.send_webhook` plays the vendor's side of webhooks: it POSTs a callback body
with every field of the Swagger's ``x-ms-notification-content`` schema of the event (values from
the demo company) to every subscription of that event, so end-to-end tests get real deliveries.
The values are spelled like real captured callbacks (``tests/fixtures/tele2/captured``):
``"type": "Event"``, ``"version": "v1"``, ``eventType`` = the event name, times
``2018-04-25T13:52:02+0000`` in UTC, numbers national without a prefix, and ``callEnded`` on
``CallCompleted``. Lost-caller callbacks also update the list ``GET /lost_calls`` serves, and
:meth:`Tele2Simulator.lose_call` / :meth:`Tele2Simulator.reach_caller` change it as the PBX would.

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
import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
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
#: ``eventType`` per event: real callbacks carry the event name itself (captured fixtures), although the
#: Swagger's descriptions also say "LostCallerCreated", "CallCompletedEvent" (the adapter reads those too).
EVENT_TYPES: dict[str, str] = {name: name for name in WEBHOOK_EVENTS}
#: ``type`` and ``version`` of a callback envelope, as real callbacks spell them (captured fixtures).
CALLBACK_TYPE = "Event"
CALLBACK_VERSION = "v1"
#: Where national numbers in callbacks are read (numbers are sent national, without a prefix).
REGION = "LT"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _local(moment: datetime) -> str:
    """Vendor-style local time (``2026-10-06 12:58:00``): the format is undocumented, this is a guess."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def _stamp(moment: datetime) -> str:
    """A callback time as real callbacks spell it: UTC with a ``+0000`` offset (captured fixtures)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _national(number: str) -> str:
    """``+37069912345`` -> ``69912345``: how real callbacks carry numbers (national, no prefix)."""
    parsed = phonenumbers.parse(number, REGION)
    if parsed.country_code != phonenumbers.country_code_for_region(REGION):
        return number.lstrip("+")
    return str(phonenumbers.national_significant_number(parsed))


def _moment(raw: str) -> datetime | None:
    """A ``date_from``/``date_to`` value (ISO 8601, the Swagger's ``date-time``), or ``None`` if unreadable."""
    try:
        parsed = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ZONE)


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
            (what the live service returns there is undocumented; the ``Location`` header still names it).
        serve_webhook_list: serve the inferred ``GET /webhooks`` (not in the Swagger; off by default).
        send_location: answer a subscribe with a ``Location`` header naming the new webhook.
    """

    api_keys: set[str] = field(default_factory=lambda: {API_KEY})
    clock: Callable[[], datetime] = field(default_factory=lambda: _utcnow)
    prefix: str = "/api/v2"
    webhook_limit: int = WEBHOOK_LIMIT
    echo_ids: bool = True
    serve_webhook_list: bool = False
    send_location: bool = True
    employees: dict[int, Json] = field(default_factory=dict, init=False)
    groups: dict[int, Json] = field(default_factory=dict, init=False)
    webhooks: dict[int, Json] = field(default_factory=dict, init=False)
    #: The open lost callers ``GET /lost_calls`` lists, by (callerid, destination) as callbacks spell them.
    lost_callers: dict[tuple[str, str], Json] = field(default_factory=dict, init=False)
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

    def lose_call(self, caller: str, *, line: str = MAIN_LINE, contact_name: str = "") -> tuple[str, Json]:
        """A caller's call went unanswered: add them to the lost list, or count one more attempt.

        Returns the event Tele2 would announce (``LostCallerAdded`` or ``LostCallerUpdated``) and its
        ``data``; nothing is delivered (see :meth:`send_webhook`), as when nobody listens.
        """
        key = (_national(caller), _national(line))
        row = self.lost_callers.get(key)
        event = "LostCallerUpdated" if row is not None else "LostCallerAdded"
        attempts = (row["attempts"] if row is not None else 0) + 1
        self.lost_callers[key] = {
            "contact_name": contact_name or (row or {}).get("contact_name", ""),
            "destination": key[1],
            "attempts": attempts,
            "callerid": key[0],
            "last_contact": _stamp(self.clock()),
        }
        return event, copy.deepcopy(self.lost_callers[key])

    def reach_caller(self, caller: str, *, line: str = MAIN_LINE) -> Json | None:
        """The caller was called back (or got through): off the lost list; the ``LostCallerRemoved`` data."""
        key = (_national(caller), _national(line))
        if self.lost_callers.pop(key, None) is None:
            return None
        return {"destination": key[1], "callerid": key[0]}

    def respond_with(self, method: str, path: str, body: Any, *, status: int = 200) -> None:
        """Answer ``method path`` (relative to the prefix) with ``body`` as JSON until :meth:`reset`."""
        self.canned[(method.upper(), self.prefix + path)] = (status, body)

    def webhook_body(self, event: str, payload_overrides: Json | None = None) -> Json:
        """A realistic callback body for ``event``; ``payload_overrides`` replace fields of ``data``."""
        if event not in WEBHOOK_EVENTS:
            raise ValueError(f"unknown webhook event {event!r}; known: {', '.join(WEBHOOK_EVENTS)}")
        data = self._payload(event)
        data.update(payload_overrides or {})
        return {"type": CALLBACK_TYPE, "version": CALLBACK_VERSION, "eventType": EVENT_TYPES[event], "data": data}

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
            ("GET", "/lost_calls", self._list_lost_calls),
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
            if handler == self._list_webhooks and not self.serve_webhook_list:
                return PlainTextResponse("Not Found", status_code=404)  # what any route the API lacks answers
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

    async def _list_lost_calls(self, request: Request) -> Response:
        limit = _int_param(request, "limit")
        offset = _int_param(request, "offset") or 0
        bounds = {name: request.query_params.get(name) for name in ("date_from", "date_to")}
        moments = {name: _moment(raw) for name, raw in bounds.items() if raw is not None}
        if (limit is not None and limit < 1) or offset < 0 or None in moments.values():
            return _error(422, "Unprocessable Entity: limit and offset are integers, dates are date-time")
        destination = request.query_params.get("destination")
        rows = sorted(self.lost_callers.values(), key=lambda row: row["last_contact"], reverse=True)
        if destination is not None:
            rows = [row for row in rows if row["destination"] == _national(destination)]
        since, until = moments.get("date_from"), moments.get("date_to")
        if since is not None or until is not None:
            stamped = [(row, datetime.strptime(row["last_contact"], "%Y-%m-%dT%H:%M:%S%z")) for row in rows]
            rows = [r for r, at in stamped if (since is None or at >= since) and (until is None or at <= until)]
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
        return _answer(data, message="Webhook created", headers={"Location": location} if self.send_location else None)

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
        self._track_lost(event, body["data"])
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

    def _track_lost(self, event: str, data: Json) -> None:
        """What a lost-caller callback announces is what ``GET /lost_calls`` lists from then on."""
        caller, line = data.get("callerid"), data.get("destination")
        if not isinstance(caller, str) or not isinstance(line, str):
            return
        key = (
            _national(caller) if caller.startswith("+") else caller,
            _national(line) if line.startswith("+") else line,
        )
        if event == "LostCallerRemoved":
            self.lost_callers.pop(key, None)
        elif event in ("LostCallerAdded", "LostCallerUpdated"):
            fields = ("contact_name", "destination", "attempts", "callerid", "last_contact")
            self.lost_callers[key] = {name: data.get(name) for name in fields} | {
                "callerid": key[0],
                "destination": key[1],
            }

    def _payload(self, event: str) -> Json:
        """Demo values for every field the Swagger lists for ``event``, in its names and types, spelled as
        real callbacks spell them (plus ``callEnded`` on ``CallCompleted``, which real ones carry)."""
        now = self.clock()
        started = _stamp(now - timedelta(minutes=2))
        connected = _stamp(now - timedelta(seconds=100))
        call: Json = {
            "callID": 5001,
            "caller": _national("+37069912345"),
            "destination": _national(MAIN_LINE),
            "direction": "in",
            "status": 1,
            "callStarted": started,
            "contactID": 101,
        }
        lost: Json = {
            "contact_name": "UAB Medis",
            "destination": _national(MAIN_LINE),
            "attempts": 1,
            "callerid": _national("+37069912345"),
            "last_contact": _stamp(now),
        }
        voicemail: Json = {"sender": _national("+37069954321"), "voicemailID": 7001}
        completed = {**call, "callConnected": connected, "connectionTime": 95, "previous_contactID": 0}
        payloads: dict[str, Json] = {
            "CallStarted": call,
            "CallConnected": {**call, "callConnected": connected},
            "CallCompleted": {**completed, "callEnded": _stamp(now)},
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
            "LostCallerRemoved": {"destination": _national(MAIN_LINE), "callerid": _national("+37069912345")},
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
        self.lost_callers = {}
        self._ids = itertools.count(1)
        for event, endpoint in FOREIGN_WEBHOOKS:
            self.add_webhook(event, endpoint)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
