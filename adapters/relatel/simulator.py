"""A stateful Relatel REST API v2 simulator, for tests and ``phonebot console --simulate``.

It serves the subset :class:`~adapters.relatel.adapter.RelatelAdapter` uses, under ``/api/v2``,
and behaves like the real API where it matters: every token belongs to an employee and the
"me" endpoints act as that employee; DND set with ``PUT`` reads back and ends at
``dnd_timeout_at``; ``POST /switch/dial`` rings the token owner (recorded in :attr:`dials`);
group membership changes through the seed's admin update of the group's ``employee_ids`` (the
2014 per-user join/leave routes answer 404 unless :attr:`legacy_group_routes`); ``GET /calls`` ignores the
``endpoint`` filter as the live API does; errors use Relatel's ``{"status": "failure",
"message": ...}`` body. Every answer has the fields and types of the seed's own example for that
operation (``shared/seeds/000_…``, checked by ``tests/unit/adapters/test_relatel_seed_contract.py``),
plus only the extras that test lists (the live fields the adapter notes name, and an employee's
``email``, which no document prints). Fault injection and request recording come from
:class:`SimulatorBase`.

Usage::

    sim = RelatelSimulator()
    with LoopbackServer(sim.build_app()) as server:
        config = RelatelConfig(base_url=server.url + "/api/v2", token="relatel-admin-token")
        adapter = RelatelAdapter(config)
        await adapter.set_presence(adapter.service_identity(), PresenceChange(activity="lunch"))
        assert sim.employee(1)["do_not_disturb"] is True
        sim.set_faults(status=500, count=1, path_prefix="/api/v2/switch/dial")

Demo company: employees 1 Alice Andersen (admin), 2 Bob Berg, 3 Carol Christensen; receptions
10 "Main line" and 11 "Support" (two calls ringing on Support); employee groups 20 "Support
team" (Alice, Bob) and 21 "Sales" (Carol); contacts including "Acme Corp", "Jens Jensen" and
"Jensen Plumbing" among 130, so a name search needs two pages; voicemails 501 (heard) and 502
(unheard, with a transcript).

Alerts: :meth:`RelatelSimulator.add_missed_call`, :meth:`~RelatelSimulator.add_answered_call`,
:meth:`~RelatelSimulator.add_callback` and :meth:`~RelatelSimulator.add_voicemail` change the call
log and the voicemail list the adapter polls. Lists page the way ``shared/vendors/relatel.md``
("Pagination") documents Relatel, not the way any client guesses: there is no page, offset,
cursor or ``Link`` header (``page``/``per_page`` are ignored like any unknown parameter); at most
``limit`` rows (default 30, at most 100), newest first; ``GET /calls`` honours inclusive
``ended_at_*`` and ``started_at_*`` bounds, so paging back with ``started_at_lt_or_eq`` returns
the boundary call again; ``GET /voice_mails`` likewise with ``created_at_lt_or_eq``; ``PUT
/voice_mails/{id}`` marks heard; ``GET /voice_mails/{id}/sound`` serves a personal mailbox's audio
only to its owner's token. :meth:`~RelatelSimulator.send_webhook` POSTs a webhook signed
exactly as Relatel signs them (``Relatel-Signature: t=<ts>,v1=<hex>`` over ``"<t>.<raw body>"``,
``Relatel-Delivery-Id``, the ``{"delivery_id", "event_type", "occurred_at", "payload"}`` envelope).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.relatel.signature import relatel_signature
from adapters.simulation import SimulatorBase

Json = dict[str, Any]
Handler = Callable[[Request, Json], Awaitable[Response]]

ADMIN_TOKEN = "relatel-admin-token"
BOB_TOKEN = "relatel-bob-token"
DEFAULT_TOKENS: dict[str, int] = {ADMIN_TOKEN: 1, BOB_TOKEN: 2}
COMPANY_ID = 100
#: The demo OAuth application (client id -> secret, redirect URI); tests register their own.
OAUTH_CLIENT_ID = "phonebot-demo-app"
OAUTH_CLIENT_SECRET = "phonebot-demo-secret"
DEFAULT_OAUTH_APPS: dict[str, tuple[str, str]] = {
    OAUTH_CLIENT_ID: (OAUTH_CLIENT_SECRET, "http://127.0.0.1/link/relatel/callback")
}
CONTACT_COUNT = 130
#: The signing secret of the simulated company's webhook (Firmaadministration → Webhooks).
WEBHOOK_SECRET = "relatel-webhook-secret"
RECEPTION_NAMES = {"Reception#10": "Main line", "Reception#11": "Support"}
#: ``restrict_to`` of ``POST /switch/dial`` (seed 000 ~660).
RESTRICT_TO = ("", "web_call", "mobile")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _failure(status: int, message: str) -> Response:
    return JSONResponse({"status": "failure", "message": message}, status_code=status)


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    return int(raw) if raw is not None and raw.isdigit() else None


def _call_endpoints(call: Json) -> set[str]:
    return {call.get("endpoint") or ""} | {node.get("endpoint") or "" for node in call.get("nodes") or []}


@dataclass(frozen=True)
class SimulatedDial:
    """One ``POST /switch/dial``: whose phone rang first (and on which device), and the number dialled after."""

    employee_id: int
    to_number: str
    at: datetime
    restrict_to: str | None = None  # as sent: "", "web_call" or "mobile"; None when left out


@dataclass
class RelatelSimulator(SimulatorBase):
    """Relatel's API over a small demo company; see the module docstring.

    Args:
        tokens: bearer token -> employee id it acts as.
        clock: current aware UTC time; seeds call times and ends expired DND.
        prefix: path prefix of the API (the real one is ``/api/v2``).
    """

    tokens: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TOKENS))
    clock: Callable[[], datetime] = field(default_factory=lambda: _utcnow)
    prefix: str = "/api/v2"
    employees: dict[int, Json] = field(default_factory=dict, init=False)
    groups: dict[int, Json] = field(default_factory=dict, init=False)
    receptions: dict[int, Json] = field(default_factory=dict, init=False)
    calls: list[Json] = field(default_factory=list, init=False)
    contacts: dict[int, Json] = field(default_factory=dict, init=False)
    voicemails: dict[int, Json] = field(default_factory=dict, init=False)
    dials: list[SimulatedDial] = field(default_factory=list, init=False)
    canned: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict, init=False)
    #: What the voicemail sound endpoint calls its body (tests: a vendor sending text/html).
    sound_media_type: str = "audio/mpeg"
    #: Serve the 2014 ``POST /employee_groups/{id}/join|leave`` (FF-DOCS). Off by default: the
    #: v2.1.2 documents don't have them, so they answer 404 like any unknown route.
    legacy_group_routes: bool = False
    #: Called after each successful ``PUT /employee_groups/{id}`` with the group (tests: a
    #: concurrent writer changing the group right after phonebot's write).
    after_group_update: Callable[[Json], None] | None = None
    #: Registered OAuth applications (000 ~9 "you need to first register your application"):
    #: client id -> (client secret, redirect URI).
    oauth_apps: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_OAUTH_APPS))
    #: Who is logged in at Relatel's consent page and grants access (``None``: they decline).
    consenting_employee: int | None = 2
    oauth_codes: dict[str, tuple[str, str, int]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._seed()

    # -- helpers for tests ----------------------------------------------------------------
    def reset(self) -> None:
        """Back to the demo data: no dials, requests, faults or canned answers."""
        self.dials.clear()
        self.requests.clear()
        self.oauth_codes.clear()
        self.canned.clear()
        self.clear_faults()
        self.legacy_group_routes = False
        self.after_group_update = None
        self._seed()

    def employee(self, employee_id: int) -> Json:
        """The live employee record (mutate it to set up a scenario)."""
        return self.employees[employee_id]

    def group(self, group_id: int) -> Json:
        """The live employee-group record."""
        return self.groups[group_id]

    def set_dnd(self, employee_id: int, on: bool, until: datetime | None = None) -> None:
        """Set an employee's DND directly, as if done in Relatel's app."""
        self.employees[employee_id]["do_not_disturb"] = on
        self.employees[employee_id]["dnd_timeout_at"] = _iso(until) if until is not None else None

    def add_call(self, **fields: Any) -> Json:
        """Append a call-log entry (defaults: incoming, ringing now on ``Reception#10``).

        Every field of 000's call object (~596-627) is there; ``ringing_at`` follows ``started_at``
        unless given, and a caller or callee that is no contact is ``null``.
        """
        call: Json = {
            "call_uuid": f"sim-call-{len(self.calls) + 1}",
            "company_id": COMPANY_ID,
            "direction": "incoming",
            "endpoint": "Reception#10",
            "endpoint_type": "reception",
            "from_number": "4520000000",
            "from_contact": None,
            "smiley": None,
            "started_at": _iso(self.clock()),
            "status": "ringing",
            "to_contact": None,
            "to_number": "4570000010",
            "answered_at": None,
            "answered_by": None,
            "ended_at": None,
            "nodes": [],
        }
        call.update(fields)
        call.setdefault("ringing_at", call["started_at"])
        self.calls.append(call)
        return call

    def contact_for(self, number: str, name: str | None = None) -> Json | None:
        """The company contact Relatel shows for ``number``: an existing one, a new one named ``name``, or ``None``.

        With ``name``, a contact of that name and number is used, or added to the company's
        contacts (a caller is shown by name only when they are a contact).
        """
        for contact in self.contacts.values():
            if contact["number"] == number and (name is None or contact["name"] == name):
                return contact
        if name is None:
            return None
        contact_id = max(self.contacts, default=0) + 1
        self.contacts[contact_id] = _contact(contact_id, name, number, None)
        return self.contacts[contact_id]

    def _call_party(self, number: str, name: str | None) -> Json | None:
        """``from_contact`` of a call: 000 ~604-609 ``{id, number, name, email}``."""
        contact = self.contact_for(number, name)
        return None if contact is None else {key: contact[key] for key in ("id", "number", "name", "email")}

    def add_missed_call(
        self,
        from_number: str = "4520000000",
        *,
        reception: int = 10,
        at: datetime | None = None,
        status: str = "missed",
        contact_name: str | None = None,
        ring_seconds: int = 20,
    ) -> Json:
        """An incoming call on ``reception`` nobody answered: it rang from ``at`` (default now) and ended."""
        start = at or self.clock()
        line = self.receptions[reception]
        return self.add_call(
            call_uuid=f"sim-call-{uuid.uuid4().hex[:12]}",
            endpoint=line["endpoint"],
            endpoint_name=line["name"],
            from_number=from_number,
            from_contact=self._call_party(from_number, contact_name),
            to_number=line["phone_number"]["number"],
            ringing_at=_iso(start),
            started_at=_iso(start),
            ended_at=_iso(start + timedelta(seconds=ring_seconds)),
            status=status,
            nodes=[_node(line["endpoint"], status)],
        )

    def add_answered_call(
        self, from_number: str, *, by: int = 1, reception: int = 10, at: datetime | None = None
    ) -> Json:
        """An incoming call on ``reception`` that employee ``by`` answered, starting at ``at`` (default now)."""
        start = at or self.clock()
        line, employee = self.receptions[reception], self.employees[by]
        return self.add_call(
            call_uuid=f"sim-call-{uuid.uuid4().hex[:12]}",
            endpoint=employee["endpoint"],
            endpoint_type="employee",
            endpoint_name=employee["name"],
            from_number=from_number,
            to_number=line["phone_number"]["number"],
            ringing_at=_iso(start),
            started_at=_iso(start),
            answered_at=_iso(start + timedelta(seconds=5)),
            ended_at=_iso(start + timedelta(seconds=65)),
            status="answered",
            answered_by={"id": by, "name": employee["name"], "number": employee["number"]},
            nodes=[_node(line["endpoint"], "answered"), _node(employee["endpoint"], "answered")],
        )

    def add_callback(self, to_number: str, *, by: int = 1, at: datetime | None = None) -> Json:
        """An outgoing call from employee ``by`` to ``to_number`` that was answered, starting at ``at``."""
        start = at or self.clock()
        employee = self.employees[by]
        return self.add_call(
            call_uuid=f"sim-call-{uuid.uuid4().hex[:12]}",
            direction="outgoing",
            endpoint=employee["endpoint"],
            endpoint_type="employee",
            endpoint_name=employee["name"],
            from_number=employee["number"],
            to_number=to_number,
            ringing_at=_iso(start),
            started_at=_iso(start),
            answered_at=_iso(start + timedelta(seconds=8)),
            ended_at=_iso(start + timedelta(seconds=128)),
            status="answered",
            answered_by=None,
            nodes=[_node(employee["endpoint"], "answered")],
        )

    def add_voicemail(
        self,
        from_number: str = "4520000000",
        *,
        reception: int = 10,
        at: datetime | None = None,
        duration: int = 21,
        message: str | None = None,
        contact_name: str | None = None,
        heard: bool = False,
        employee: int | None = None,
    ) -> Json:
        """A voicemail left at ``at`` (default now) on ``reception``'s mailbox, or on ``employee``'s own."""
        voicemail_id = max(self.voicemails, default=500) + 1
        mailbox = self.employees[employee] if employee is not None else self.receptions[reception]
        voicemail: Json = {
            "id": voicemail_id,
            "created_at": _iso(at or self.clock()),
            "heard": heard,
            "duration": duration,
            "endpoint": mailbox["endpoint"],
            "endpoint_name": mailbox["name"],
            "from_number": from_number,
            "from_contact": copy.deepcopy(self.contact_for(from_number, contact_name)),  # 000 ~380-390
            "message": message,
            "comment": None,
            "sound": {
                "url": f"https://app.relatel.dk/api/v2/voice_mails/{voicemail_id}/sound",
                "formats": ["mp3"],
            },
        }
        self.voicemails[voicemail_id] = voicemail
        return voicemail

    def hear_voicemail(self, voicemail_id: int) -> None:
        """Mark a voicemail heard, as if someone listened to it in Relatel's app."""
        self.voicemails[voicemail_id]["heard"] = True

    def delete_voicemail(self, voicemail_id: int) -> None:
        """Delete a voicemail, as if done in Relatel's app."""
        del self.voicemails[voicemail_id]

    def webhook_request(
        self, event_type: str, payload: Json | None, *, secret: str, delivery_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers of one webhook, signed as Relatel signs it now."""
        now = self.clock()
        envelope = {
            "delivery_id": delivery_id or str(uuid.uuid4()),
            "event_type": event_type,
            "occurred_at": _iso(now),
            "payload": payload,
        }
        body = json.dumps(envelope).encode()
        headers = {
            "Content-Type": "application/json",
            "Relatel-Signature": relatel_signature(secret, body, int(now.timestamp())),
            "Relatel-Delivery-Id": str(envelope["delivery_id"]),
        }
        return body, headers

    async def send_webhook(
        self, url: str, event_type: str, payload: Json | None, *, secret: str, delivery_id: str | None = None
    ) -> httpx.Response:
        """POST one signed webhook to ``url`` (a redelivery reuses ``delivery_id``)."""
        body, headers = self.webhook_request(event_type, payload, secret=secret, delivery_id=delivery_id)
        async with httpx.AsyncClient(timeout=5.0) as client:
            return await client.post(url, content=body, headers=headers)

    def send_webhook_sync(
        self, url: str, event_type: str, payload: Json | None, *, secret: str, delivery_id: str | None = None
    ) -> httpx.Response:
        """The blocking twin of :meth:`send_webhook`."""
        body, headers = self.webhook_request(event_type, payload, secret=secret, delivery_id=delivery_id)
        with httpx.Client(timeout=5.0) as client:
            return client.post(url, content=body, headers=headers)

    def respond_with(self, method: str, path: str, body: Any, *, status: int = 200) -> None:
        """Answer ``method path`` (relative to the prefix) with ``body`` until :meth:`reset`.

        A ``str`` body is sent as plain text, ``None`` as an empty body; this is how tests
        feed the adapter malformed or differently wrapped answers.
        """
        self.canned[(method.upper(), self.prefix + path)] = (status, body)

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The Relatel API routes under :attr:`prefix`."""
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/employee", self._get_me),
            ("PUT", "/employee", self._put_me),
            ("GET", "/employees", self._list_employees),
            ("GET", "/employees/{id:int}", self._get_employee),
            ("PUT", "/employees/{id:int}", self._put_employee),
            ("GET", "/employee_groups", self._list_groups),
            ("PUT", "/employee_groups/{id:int}", self._put_group),
            ("POST", "/employee_groups/{id:int}/join", self._join),
            ("POST", "/employee_groups/{id:int}/leave", self._leave),
            ("GET", "/calls", self._list_calls),
            ("POST", "/switch/dial", self._dial),
            ("GET", "/receptions", self._list_receptions),
            ("GET", "/receptions/{id:int}/statistics", self._statistics),
            ("GET", "/contacts", self._list_contacts),
            ("GET", "/voice_mails", self._list_voicemails),
            ("GET", "/voice_mails/{id:int}", self._get_voicemail),
            ("PUT", "/voice_mails/{id:int}", self._put_voicemail),
            ("GET", "/voice_mails/{id:int}/sound", self._voicemail_sound),
        ]
        api = [Route(self.prefix + path, self._guarded(handler), methods=[method]) for method, path, handler in table]
        return [
            Route(self.prefix + "/authorize", self._authorize, methods=["GET"]),
            Route(self.prefix + "/token", self._token, methods=["POST"]),
            *api,
        ]

    # -- OAuth 2.0 (000 ~11-17) -------------------------------------------------------------
    async def _authorize(self, request: Request) -> Response:
        """The consent page, decided at once: the logged-in employee grants access (or declines)."""
        query = request.query_params
        app = self.oauth_apps.get(query.get("client_id", ""))
        if app is None or query.get("response_type") != "code" or query.get("redirect_uri") != app[1]:
            return _failure(400, "invalid client_id, response_type or redirect_uri")
        state = {"state": query["state"]} if "state" in query else {}
        if self.consenting_employee is None:
            return RedirectResponse(f"{app[1]}?{urlencode({'error': 'access_denied', **state})}", status_code=302)
        code = uuid.uuid4().hex
        self.oauth_codes[code] = (query["client_id"], app[1], self.consenting_employee)
        return RedirectResponse(f"{app[1]}?{urlencode({'code': code, **state})}", status_code=302)

    async def _token(self, request: Request) -> Response:
        """000 ~16: every parameter in the query; a code works once; the answer is ``{"access_token": …}``."""
        query = request.query_params
        app = self.oauth_apps.get(query.get("client_id", ""))
        if app is None or query.get("client_secret") != app[0]:
            return _failure(401, "401 Unauthorized")
        granted = self.oauth_codes.pop(query.get("code", ""), None)
        if (
            granted is None
            or query.get("grant_type") != "authorization_code"
            or granted[:2] != (query["client_id"], query.get("redirect_uri"))
        ):
            return _failure(400, "invalid grant")
        token = "relatel-oauth-" + uuid.uuid4().hex
        self.tokens[token] = granted[2]
        return JSONResponse({"access_token": token})

    def revoke(self, token: str) -> None:
        """The user destroyed the token (000 ~10 "a user may at any time destroy their access tokens")."""
        self.tokens.pop(token, None)

    def _guarded(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            canned = self.canned.get((request.method, request.url.path))
            if canned is not None:
                status, body = canned
                if body is None:
                    return Response(b"", status_code=status)
                if isinstance(body, str):
                    return PlainTextResponse(body, status_code=status)
                return JSONResponse(body, status_code=status)
            me = self._owner(request)
            if me is None:
                return _failure(401, "401 Unauthorized")
            self._expire_dnd()
            return await handler(request, me)

        return endpoint

    def _owner(self, request: Request) -> Json | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            token = request.query_params.get("access_token", "")
        employee_id = self.tokens.get(token.strip())
        return self.employees.get(employee_id) if employee_id is not None else None

    def _expire_dnd(self) -> None:
        now = self.clock()
        for employee in self.employees.values():
            until = _parse_time(employee.get("dnd_timeout_at"))
            if employee.get("do_not_disturb") and until is not None and until <= now:
                employee["do_not_disturb"] = False
                employee["dnd_timeout_at"] = None

    # -- employees ------------------------------------------------------------------------
    async def _get_me(self, request: Request, me: Json) -> Response:
        return JSONResponse({"employee": copy.deepcopy(me)})

    async def _put_me(self, request: Request, me: Json) -> Response:
        return await self._update(request, me, target=me)

    async def _list_employees(self, request: Request, me: Json) -> Response:
        ordered = sorted(self.employees.values(), key=lambda e: str(e["name"]))
        return JSONResponse({"employees": copy.deepcopy(ordered)})

    async def _get_employee(self, request: Request, me: Json) -> Response:
        target = self.employees.get(request.path_params["id"])
        if target is None:
            return _failure(404, "404 Not Found")
        return JSONResponse({"employee": copy.deepcopy(target)})

    async def _put_employee(self, request: Request, me: Json) -> Response:
        target = self.employees.get(request.path_params["id"])
        if target is None:
            return _failure(404, "404 Not Found")
        if target is not me and not me["admin"]:
            return _failure(403, "403 Forbidden")
        return await self._update(request, me, target=target)

    async def _update(self, request: Request, me: Json, *, target: Json) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        fields = body.get("employee") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _failure(422, "param is missing or the value is empty: employee")
        if "do_not_disturb" in fields and not isinstance(fields["do_not_disturb"], bool):
            return _failure(422, "do_not_disturb must be true or false")
        if "dnd_timeout_at" in fields:
            value = fields["dnd_timeout_at"]
            if value is not None and _parse_time(value) is None:
                return _failure(422, "dnd_timeout_at must be an ISO 8601 time")
        if "employee_group_ids" in fields:
            if not me["admin"]:
                return _failure(403, "403 Forbidden")
            wanted = fields["employee_group_ids"]
            if not isinstance(wanted, list) or not all(isinstance(g, int) and g in self.groups for g in wanted):
                return _failure(422, "employee_group_ids must list existing group ids")
            for group_id, group in self.groups.items():
                self._set_member(group, target, group_id in wanted)
        if "do_not_disturb" in fields:
            target["do_not_disturb"] = fields["do_not_disturb"]
        if "dnd_timeout_at" in fields:
            value = fields["dnd_timeout_at"]
            target["dnd_timeout_at"] = _iso(_parse_time(value) or self.clock()) if value is not None else None
        self._expire_dnd()
        return JSONResponse({"employee": copy.deepcopy(target)})

    # -- employee groups ------------------------------------------------------------------
    async def _list_groups(self, request: Request, me: Json) -> Response:
        return JSONResponse({"employee_groups": copy.deepcopy(list(self.groups.values()))})

    async def _put_group(self, request: Request, me: Json) -> Response:
        """The seed's group update (000 ~299-311): ``{"employee_group": {...}}``, answered unwrapped.

        Membership of others is an admin's to change (FF-DOCS), so a non-admin gets 403.
        ``employee_ids`` replaces the whole list, as the seed's create body (000 ~283-289) sets it.
        """
        group = self.groups.get(request.path_params["id"])
        if group is None:
            return _failure(404, "404 Not Found")
        if not me["admin"]:
            return _failure(403, "403 Forbidden")
        try:
            body = await request.json()
        except ValueError:
            body = None
        fields = body.get("employee_group") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _failure(422, "param is missing or the value is empty: employee_group")
        if "name" in fields and (not isinstance(fields["name"], str) or not fields["name"].strip()):
            return _failure(422, "name can't be blank")
        wanted = fields.get("employee_ids", group["employee_ids"])
        if not isinstance(wanted, list) or not all(
            isinstance(e, int) and not isinstance(e, bool) and e in self.employees for e in wanted
        ):
            return _failure(422, "employee_ids must list existing employee ids")
        if "name" in fields:
            group["name"] = fields["name"]
        for employee in self.employees.values():
            self._set_member(group, employee, employee["id"] in wanted)
        group["employee_ids"] = list(dict.fromkeys(wanted))
        answer = copy.deepcopy(group)
        if self.after_group_update is not None:
            self.after_group_update(group)
        return JSONResponse(answer)

    async def _join(self, request: Request, me: Json) -> Response:
        return self._membership(request, me, member=True)

    async def _leave(self, request: Request, me: Json) -> Response:
        return self._membership(request, me, member=False)

    def _membership(self, request: Request, me: Json, *, member: bool) -> Response:
        if not self.legacy_group_routes:
            return _failure(404, "404 Not Found")
        group = self.groups.get(request.path_params["id"])
        if group is None:
            return _failure(404, "404 Not Found")
        self._set_member(group, me, member)
        return JSONResponse({"employee_group": copy.deepcopy(group)})

    @staticmethod
    def _set_member(group: Json, employee: Json, member: bool) -> None:
        ids: list[int] = group["employee_ids"]
        mine: list[int] = employee["employee_group_ids"]
        if member and employee["id"] not in ids:
            ids.append(employee["id"])
            mine.append(group["id"])
        elif not member and employee["id"] in ids:
            ids.remove(employee["id"])
            mine.remove(group["id"])

    # -- calls ----------------------------------------------------------------------------
    async def _list_calls(self, request: Request, me: Json) -> Response:
        calls = list(self.calls)
        status = request.query_params.get("status")
        if status:
            calls = [c for c in calls if c.get("status") == status]
        direction = request.query_params.get("direction")
        if direction:
            calls = [c for c in calls if c.get("direction") == direction]
        number = request.query_params.get("number")
        if number:
            calls = [c for c in calls if number in (c.get("from_number"), c.get("to_number"))]
        for name, field_name in (("ended_at", "ended_at"), ("started_at", "started_at")):
            low = _parse_time(request.query_params.get(f"{name}_gt_or_eq"))
            high = _parse_time(request.query_params.get(f"{name}_lt_or_eq"))
            if low is not None or high is not None:
                calls = [c for c in calls if _within(_parse_time(c.get(field_name)), low, high)]
        # Like the live API, `endpoint` is accepted and ignored.
        # Newest first by start time (parsed, not compared as text); ties in a fixed order.
        calls.sort(key=lambda c: (_parse_time(c.get("started_at")) or _EPOCH, str(c.get("call_uuid"))), reverse=True)
        limit = min(_int_param(request, "limit") or 30, 100)
        return JSONResponse({"calls": copy.deepcopy(calls[:limit])})

    async def _dial(self, request: Request, me: Json) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        to_number: Any = body.get("to_number") if isinstance(body, dict) else None
        if to_number is None:
            to_number = request.query_params.get("to_number")
        if isinstance(to_number, int) and not isinstance(to_number, bool):
            to_number = str(to_number)
        if not isinstance(to_number, str) or not to_number.isdigit() or to_number.startswith("00"):
            return _failure(422, "to_number must be the country code and number, digits only")
        # Seed 000 ~660: restrict_to 'Enum: "" "web_call" "mobile"', "If present, only rings on that device".
        restrict_to: Any = body.get("restrict_to") if isinstance(body, dict) else None
        if restrict_to is None:
            restrict_to = request.query_params.get("restrict_to")
        if restrict_to is not None and restrict_to not in RESTRICT_TO:
            return _failure(422, 'restrict_to must be "", "web_call" or "mobile"')
        self.dials.append(
            SimulatedDial(employee_id=me["id"], to_number=to_number, at=self.clock(), restrict_to=restrict_to)
        )
        return JSONResponse({"message": "Call initiated successfully"})

    # -- receptions -----------------------------------------------------------------------
    async def _list_receptions(self, request: Request, me: Json) -> Response:
        return JSONResponse({"receptions": copy.deepcopy(list(self.receptions.values()))})

    async def _statistics(self, request: Request, me: Json) -> Response:
        reception = self.receptions.get(request.path_params["id"])
        if reception is None:
            return _failure(404, "404 Not Found")
        target = _int_param(request, "answer_target")
        start = _parse_time(request.query_params.get("from_time"))
        end = _parse_time(request.query_params.get("to_time"))
        if target is None or start is None or end is None:
            return _failure(422, "answer_target, from_time and to_time are required")
        answered: list[float] = []
        missed: list[float] = []
        durations: list[float] = []
        for call in self.calls:
            started = _parse_time(call.get("started_at"))
            if started is None or not start <= started <= end or reception["endpoint"] not in _call_endpoints(call):
                continue
            picked = _parse_time(call.get("answered_at"))
            ended = _parse_time(call.get("ended_at"))
            if picked is not None:
                answered.append((picked - started).total_seconds())
                if ended is not None:
                    durations.append((ended - picked).total_seconds())
            elif ended is not None:
                missed.append((ended - started).total_seconds())
        statistics = {
            "total": len(answered) + len(missed),
            "answered": len(answered),
            "missed": len(missed),
            "average_answer_time": round(sum(answered) / len(answered)) if answered else 0,
            "average_duration": round(sum(durations) / len(durations)) if durations else 0,
            "within_target": {
                "answered": sum(1 for s in answered if s <= target),
                "missed": sum(1 for s in missed if s <= target),
            },
        }
        return JSONResponse({"statistics": statistics})

    # -- voicemails -----------------------------------------------------------------------
    async def _list_voicemails(self, request: Request, me: Json) -> Response:
        rows = sorted(self.voicemails.values(), key=lambda v: (str(v["created_at"]), v["id"]), reverse=True)
        high = _parse_time(request.query_params.get("created_at_lt_or_eq"))
        if high is not None:
            rows = [v for v in rows if _within(_parse_time(v["created_at"]), None, high)]
        limit = min(_int_param(request, "limit") or 30, 100)
        return JSONResponse({"voice_mails": copy.deepcopy(rows[:limit])})

    async def _put_voicemail(self, request: Request, me: Json) -> Response:
        voicemail = self.voicemails.get(request.path_params["id"])
        if voicemail is None:
            return _failure(404, "404 Not Found")
        try:
            body = await request.json()
        except ValueError:
            body = None
        fields = body.get("voice_mail") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _failure(422, "param is missing or the value is empty: voice_mail")
        if "heard" in fields:
            if not isinstance(fields["heard"], bool):
                return _failure(422, "heard must be true or false")
            voicemail["heard"] = fields["heard"]
        if "comment" in fields:
            voicemail["comment"] = fields["comment"]
        return JSONResponse(copy.deepcopy(voicemail))  # unwrapped, as 000 ~421-439 answers

    async def _get_voicemail(self, request: Request, me: Json) -> Response:
        """One voicemail, bare as the seed shows it (000 ~395-413)."""
        voicemail = self.voicemails.get(request.path_params["id"])
        if voicemail is None:
            return _failure(404, "404 Not Found")
        return JSONResponse(copy.deepcopy(voicemail))

    async def _voicemail_sound(self, request: Request, me: Json) -> Response:
        """The audio, to the mailbox's owner only.

        "Only a number's own user may hear its recordings" (JENSEN, live-tested): a personal
        mailbox (``Employee#<id>``) answers only that employee's token, admin or not. A
        reception's or group's mailbox has no one owner; it answers the company's admins
        (inferred: no source says who may fetch those).
        """
        voicemail = self.voicemails.get(request.path_params["id"])
        if voicemail is None:
            return _failure(404, "404 Not Found")
        mailbox = str(voicemail.get("endpoint") or "")
        allowed = mailbox == me["endpoint"] if mailbox.startswith("Employee#") else bool(me["admin"])
        if not allowed:
            return _failure(403, "403 Forbidden")
        return Response(voicemail_audio(voicemail["id"]), media_type=self.sound_media_type)

    # -- contacts -------------------------------------------------------------------------
    async def _list_contacts(self, request: Request, me: Json) -> Response:
        rows = sorted(self.contacts.values(), key=lambda c: int(c["id"]))
        number = request.query_params.get("number")
        if number:
            rows = [c for c in rows if c["number"] == number]
        first = _int_param(request, "id_gt_or_eq")
        if first is not None:
            rows = [c for c in rows if c["id"] >= first]
        limit = min(_int_param(request, "limit") or 10, 100)
        return JSONResponse({"contacts": copy.deepcopy(rows[:limit])})

    # -- demo data ------------------------------------------------------------------------
    def _seed(self) -> None:
        now = self.clock()
        self.employees = {
            1: _employee(1, "Alice Andersen", "4571000001", "alice@example.com", admin=True, groups=[20]),
            2: _employee(2, "Bob Berg", "4571000002", "bob@example.com", groups=[20], features="mobile"),
            3: _employee(3, "Carol Christensen", "4571000003", "carol@example.com", groups=[21]),
        }
        self.groups = {
            20: _group(20, "Support team", [1, 2], digit=1),
            21: _group(21, "Sales", [3], digit=2),
        }
        self.receptions = {
            10: {"id": 10, "name": "Main line", "phone_number": {"number": "4570000010"}, "endpoint": "Reception#10"},
            11: {"id": 11, "name": "Support", "phone_number": {"number": "4570000011"}, "endpoint": "Reception#11"},
        }

        # Contacts first: calls and voicemails show their caller as a contact (from_contact).
        named = [
            (1, "Relatel A/S", "4571999999", "kundeservice@relatel.dk"),
            (2, "Acme Corp", "4533000001", "info@acme.example"),
            (3, "Jens Jensen", "4540000001", None),
            (CONTACT_COUNT, "Jensen Plumbing", "4540000002", "jensen@plumbing.example"),
        ]
        self.contacts = {cid: _contact(cid, name, number, email) for cid, name, number, email in named}
        for cid in range(4, CONTACT_COUNT):
            self.contacts[cid] = _contact(cid, f"Kunde {cid:03d}", f"455{cid:07d}", None)

        def at(minutes: float) -> str:
            return _iso(now - timedelta(minutes=minutes))

        node = _node

        self.calls = []
        self.add_call(  # answered on Main line via the support team, within 30 s
            endpoint="Employee#1",
            endpoint_type="employee",
            started_at=at(50),
            answered_at=at(49.8),
            ended_at=at(45),
            status="answered",
            answered_by={"id": 1, "name": "Alice Andersen", "number": "4571000001"},
            nodes=[
                node("Reception#10", "answered"),
                node("EmployeeGroup#20", "answered"),
                node("Employee#1", "answered"),
            ],
        )
        self.add_call(started_at=at(40), ended_at=at(39), status="missed", nodes=[node("Reception#10", "missed")])
        self.add_call(  # answered on Support after 45 s
            endpoint="Reception#11",
            to_number="4570000011",
            started_at=at(30),
            answered_at=at(29.25),
            ended_at=at(25),
            status="answered",
            answered_by={"id": 2, "name": "Bob Berg", "number": "4571000002"},
            nodes=[node("Reception#11", "answered"), node("Employee#2", "answered")],
        )
        self.add_call(  # outgoing, not on any reception
            direction="outgoing",
            endpoint="Employee#3",
            endpoint_type="employee",
            from_number="4571000003",
            to_number="4533000001",
            started_at=at(20),
            answered_at=at(19.5),
            ended_at=at(12),
            status="answered",
        )
        self.add_call(  # ringing on Support for 4 minutes
            endpoint="Reception#11",
            to_number="4570000011",
            from_number="4540000001",
            started_at=at(4),
            nodes=[node("Reception#11", "ringing")],
        )
        self.add_call(  # ringing for 1 minute; now at the support team, came in on Support
            endpoint="EmployeeGroup#20",
            endpoint_type="employee_group",
            to_number="4570000011",
            from_number="4533000001",
            started_at=at(1),
            nodes=[node("Reception#11", "forwarded"), node("EmployeeGroup#20", "ringing")],
        )
        self.add_call(  # ringing directly on Alice's own number
            endpoint="Employee#1",
            endpoint_type="employee",
            to_number="4571000001",
            from_number="4520000001",
            started_at=at(0.5),
            nodes=[node("Employee#1", "ringing")],
        )

        self.voicemails = {}
        self.add_voicemail("4540000001", reception=11, at=now - timedelta(hours=3), duration=12, heard=True)
        self.add_voicemail(
            "4533000001",
            at=now - timedelta(minutes=35),
            duration=34,
            message="Hi, this is Acme Corp about our invoice. Please call back.",
            contact_name="Acme Corp",
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _within(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    """``low <= moment <= high`` for the bounds given; a missing ``moment`` is never within."""
    if moment is None:
        return False
    return (low is None or moment >= low) and (high is None or moment <= high)


def _node(endpoint: str, state: str) -> Json:
    name = RECEPTION_NAMES.get(endpoint, endpoint)
    return {"endpoint": endpoint, "endpoint_name": name, "state": state, "node_type": "endpoint"}


def _employee(
    employee_id: int,
    name: str,
    number: str,
    email: str | None,
    *,
    admin: bool = False,
    groups: list[int],
    features: str = "switch",
) -> Json:
    local = number[2:]
    return {
        "id": employee_id,
        "name": name,
        "number": number,
        "number_formatted": " ".join(local[i : i + 2] for i in range(0, len(local), 2)),
        "mobile_phone_number": None,
        "switch_phone_number": number,
        "email": email,
        "admin": admin,
        "admin_abilities": [{"name": "company_admin", "enabled": admin}],
        "cloak_reception": None,
        "company_id": COMPANY_ID,
        "dnd_timeout_at": None,
        "do_not_disturb": False,
        "subscription_ids": [1000 + employee_id],
        "employee_group_ids": list(groups),
        # A string, as 000 ~149 shows it ("mobile"); GO-FF's list form is the adapter's to parse, not ours to serve.
        "features": features,
        "live_presence": "available",
        "speed_dial": {"digit": employee_id},
        "endpoint": f"Employee#{employee_id}",
    }


def _group(group_id: int, name: str, members: list[int], *, digit: int) -> Json:
    return {
        "id": group_id,
        "name": name,
        "live_presence": "available",
        "speed_dial": {"digit": str(digit)},
        "employee_ids": list(members),
        "endpoint": f"EmployeeGroup#{group_id}",
    }


def _contact(contact_id: int, name: str, number: str, email: str | None) -> Json:
    local = number[2:]
    return {
        "id": contact_id,
        "name": name,
        "number": number,
        "number_formatted": " ".join(local[i : i + 2] for i in range(0, len(local), 2)),
        "email": email,
        "tags": [],
        "flagged": False,
        "comments_count": 0,
    }


def voicemail_audio(voicemail_id: int) -> bytes:
    """The simulated MP3 of a voicemail: an ID3 header and the id, enough to tell recordings apart."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + f"relatel voicemail {voicemail_id}".encode()
