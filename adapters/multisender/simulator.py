"""A stateful Multisender API simulator, for tests and ``phonebot console --simulate``.

It serves the subset :class:`~adapters.multisender.adapter.MultisenderAdapter` uses, under ``/v1``, and
behaves like the vendor where the seed (``shared/seeds/002_dc1da26ac487815e.txt``) says how: the token
may come as ``X-Access-Token``, ``X-Authentication-Token`` or ``?access_token=`` (else 401); ``Accept``
and ``Content-Type`` must both be ``application/json`` ("Two HTTP headers must be passed with every
request", 002 ~10-16; else 400, a status the seed does not name); lists are bare JSON arrays; ``PUT
/rsvp_calls/{id}`` is a full replacement that insists on the required fields, refuses receivers and a
``startTime`` more than an hour in the past, and answers the updated object. Its objects carry exactly
the fields of the seed's examples (``tests/unit/adapters/test_multisender_contract.py`` holds it to
them). Error bodies are not documented; the simulator answers ``{"message": …}``. Fault injection and
request recording come from :class:`SimulatorBase`.

It also plays the vendor's side of webhooks, with bodies exactly in the seed's shapes (``rsvpCallId``,
``state``, ``dialedCalls`` as in the example, ``rsvpReply``, ``meta`` echoed unchanged, masked
``phoneNumber`` like ``xxxx12342`` and ``timestamp`` as ``2017-01-01:00:00:00``, Helsinki time):

* :meth:`MultisenderSimulator.state_body` / :meth:`receiver_body` / :meth:`click_to_call_body` build them;
* :meth:`MultisenderSimulator.send_webhook` (and ``send_webhook_sync``) POST one to a URL;
* :meth:`MultisenderSimulator.change_state` and :meth:`reply` move a campaign on *and* deliver to the
  URLs configured on it, as Multisender does. A click-to-call's ``receiverWebhookUrl`` gets the Receiver
  Webhook (002 ~267: "More info in the Receiver Webhook section"), so the simulator sends that body's
  fields; which one carries the click-to-call's id is not documented, and it puts it in ``rsvpCallId``.

Demo account (Finnish numbers): RSVP call 7 "Night shift" (active, acceptsWanted 2, receivers 808 Anna
Virtanen, 809 Mikko Korhonen, 810 Liisa Nieminen, no webhooks yet), RSVP call 8 "Summer party"
(complete), RSVP call 9 "Inventory" (webhooks pointing at someone else's system); click-to-call 12
"On-call escalation" (receivers 809, 808).
"""

from __future__ import annotations

import copy
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

Json = dict[str, Any]
Handler = Callable[[Request], Awaitable[Response]]

API_TOKEN = "multisender-demo-token"
ZONE = ZoneInfo("Europe/Helsinki")
#: Someone else's webhook receiver (``.invalid`` never resolves).
FOREIGN_URL = "https://crm.example.invalid/multisender"
RSVP_REQUIRED = ("endTime", "activeFrom", "activeTo", "activeWeekdays", "voiceFiles", "actionButtons", "acceptsWanted")
JSON = "application/json"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PEOPLE: dict[str, tuple[str, str, str]] = {
    "808": ("Anna", "Virtanen", "+358401234567"),
    "809": ("Mikko", "Korhonen", "+358401234568"),
    "810": ("Liisa", "Nieminen", "+358401234569"),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _webhook_time(moment: datetime) -> str:
    """The webhook examples' ``2017-01-01:00:00:00`` (its zone is undocumented; Helsinki time here)."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%d:%H:%M:%S")


def _mask(number: str) -> str:
    """``+358401234567`` -> ``xxxx34567``, like the seed's ``xxxx12342``."""
    return "xxxx" + number[-5:]


def _media_type(value: str | None) -> str:
    """``Application/JSON; charset=utf-8`` -> ``application/json`` (the seed writes both cases)."""
    return (value or "").split(";", 1)[0].strip().lower()


def _error(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


@dataclass(frozen=True)
class WebhookDelivery:
    """One callback the simulator POSTed, and how the receiver answered."""

    url: str
    body: Json
    status_code: int


@dataclass
class MultisenderSimulator(SimulatorBase):
    """Multisender's API over a small demo account; see the module docstring.

    Args:
        tokens: API tokens accepted.
        clock: current aware UTC time; stamps webhook bodies.
        prefix: path prefix of the API (``/v1``, inferred).
        mask_numbers: mask ``phoneNumber`` in receiver webhooks as the seed's example does.
        token_header: accept the token only in this header (tests), instead of any of the three places.
    """

    tokens: set[str] = field(default_factory=lambda: {API_TOKEN})
    clock: Callable[[], datetime] = field(default_factory=lambda: _utcnow)
    prefix: str = "/v1"
    mask_numbers: bool = True
    token_header: str | None = None
    rsvp_calls: dict[str, Json] = field(default_factory=dict, init=False)
    click_to_calls: dict[str, Json] = field(default_factory=dict, init=False)
    deliveries: list[WebhookDelivery] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._seed()

    # -- helpers for tests ----------------------------------------------------------------
    def reset(self) -> None:
        """Back to the demo data: no deliveries, requests or faults."""
        self.deliveries.clear()
        self.requests.clear()
        self.token_header = None
        self.clear_faults()
        self._seed()

    def rsvp_call(self, rsvp_call_id: str) -> Json:
        """The live RSVP call record (mutate it to set up a scenario)."""
        return self.rsvp_calls[rsvp_call_id]

    def state_body(self, rsvp_call_id: str, **overrides: Any) -> Json:
        """The state webhook of RSVP call ``rsvp_call_id`` as it is now (the seed example's field names)."""
        call = self.rsvp_calls[rsvp_call_id]
        stats = call["stats"]
        body: Json = {
            "rsvpCallId": rsvp_call_id,
            "state": call["state"],
            "dialedCalls": stats["totalDialedCalls"],
            "answeredCalls": stats["answeredCalls"],
            "totalDuration": stats["totalDuration"],
            "acceptsReceived": stats["acceptsReceived"],
            "timestamp": _webhook_time(self.clock()),
        }
        body.update(overrides)
        return body

    def receiver_body(self, rsvp_call_id: str, account_id: str, reply: str, **overrides: Any) -> Json:
        """The receiver webhook for ``account_id``'s ``reply`` (``accept`` / ``decline`` / ``noReply``)."""
        call = self.rsvp_calls[rsvp_call_id]
        body: Json = {
            "rsvpCallId": rsvp_call_id,
            "phoneNumber": self._shown(account_id),
            "accountId": account_id,
            "rsvpReply": reply,
            "meta": copy.deepcopy(call.get("meta")),
            "timestamp": _webhook_time(self.clock()),
        }
        body.update(overrides)
        return body

    def click_to_call_body(self, click_to_call_id: str, account_id: str, reply: str, **overrides: Any) -> Json:
        """A click-to-call's receiver webhook: the Receiver Webhook's fields, its id in ``rsvpCallId``."""
        item = self.click_to_calls[click_to_call_id]
        body: Json = {
            "rsvpCallId": click_to_call_id,
            "phoneNumber": self._shown(account_id),
            "accountId": account_id,
            "rsvpReply": reply,
            "meta": copy.deepcopy(item.get("meta")),
            "timestamp": _webhook_time(self.clock()),
        }
        body.update(overrides)
        return body

    async def send_webhook(self, url: str, body: Json | bytes) -> httpx.Response:
        """POST one callback to ``url`` as Multisender does (JSON, no signature); recorded in :attr:`deliveries`."""
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.post(url, **self._content(body))
        return self._record(url, body, response)

    def send_webhook_sync(self, url: str, body: Json | bytes) -> httpx.Response:
        """The blocking twin of :meth:`send_webhook`."""
        with httpx.Client(timeout=5.0) as client:
            response = client.post(url, **self._content(body))
        return self._record(url, body, response)

    def change_state(self, rsvp_call_id: str, state: str) -> httpx.Response | None:
        """Move RSVP call ``rsvp_call_id`` to ``state`` and deliver to its ``stateWebhookUrl`` (if any)."""
        call = self.rsvp_calls[rsvp_call_id]
        call["state"] = state
        url = call.get("stateWebhookUrl")
        return self.send_webhook_sync(url, self.state_body(rsvp_call_id)) if url else None

    def reply(self, rsvp_call_id: str, account_id: str, reply: str) -> httpx.Response | None:
        """Record ``account_id``'s reply (stats move on) and deliver to the call's ``receiverWebhookUrl``."""
        call = self.rsvp_calls[rsvp_call_id]
        stats = call["stats"]
        stats["totalDialedCalls"] += 1
        # The webhook says noReply, the call object's receivers noAnswer (002 ~56 and ~329).
        shown = "noAnswer" if reply == "noReply" else reply
        for receiver in call["receivers"]:
            if receiver["accountId"] == account_id:
                receiver.update(
                    rsvpReply=shown, answered=0 if reply == "noReply" else 1, latestCallAt=_utc(self.clock())
                )
        if reply != "noReply":
            stats["answeredCalls"] += 1
            stats["totalDuration"] += 40
        if reply == "accept":
            stats["acceptsReceived"] += 1
        else:
            stats["declinesAndNoRepliesReceived"] += 1
        url = call.get("receiverWebhookUrl")
        return self.send_webhook_sync(url, self.receiver_body(rsvp_call_id, account_id, reply)) if url else None

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The Multisender API routes under :attr:`prefix`."""
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/rsvp_calls", self._list_rsvp_calls),
            ("GET", "/rsvp_calls/{rsvp_call_id}", self._get_rsvp_call),
            ("PUT", "/rsvp_calls/{rsvp_call_id}", self._update_rsvp_call),
            ("GET", "/click_to_calls", self._list_click_to_calls),
        ]
        return [Route(self.prefix + path, self._guarded(handler), methods=[method]) for method, path, handler in table]

    def _guarded(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if self.token_header is not None:
                token = request.headers.get(self.token_header)
            else:
                token = (
                    request.headers.get("x-access-token")
                    or request.headers.get("x-authentication-token")
                    or request.query_params.get("access_token")
                )
            if token not in self.tokens:
                return _error(401, "Invalid access token")
            if not all(_media_type(request.headers.get(name)) == JSON for name in ("accept", "content-type")):
                return _error(400, "Accept and Content-Type must be application/json")
            return await handler(request)

        return endpoint

    async def _list_rsvp_calls(self, request: Request) -> Response:
        return JSONResponse([copy.deepcopy(call) for call in self.rsvp_calls.values()])

    async def _get_rsvp_call(self, request: Request) -> Response:
        call = self.rsvp_calls.get(request.path_params["rsvp_call_id"])
        if call is None:
            return _error(404, "RSVP call not found")
        return JSONResponse(copy.deepcopy(call))

    async def _update_rsvp_call(self, request: Request) -> Response:
        call = self.rsvp_calls.get(request.path_params["rsvp_call_id"])
        if call is None:
            return _error(404, "RSVP call not found")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "The body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "The body is not a JSON object")
        missing = [name for name in RSVP_REQUIRED if body.get(name) is None]
        if missing:
            return _error(400, f"Missing required fields: {', '.join(missing)}")
        if "receivers" in body:
            return _error(400, "Receivers cannot be updated; add them with POST /rsvp_calls/{id}/receivers")
        if body.get("state") not in (None, "active", "halt"):
            return _error(400, "state must be active or halt")
        start = body.get("startTime")
        if start is not None:
            try:
                begins = datetime.strptime(start, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except (TypeError, ValueError):
                return _error(400, "startTime must be YYYY-MM-DD HH:MM:SS")
            if begins < self.clock() - timedelta(hours=1):
                return _error(400, "startTime over 1h in the past is not allowed")
        else:
            begins = None
        updatable = (*RSVP_REQUIRED, "maxRedials", "receiverWebhookUrl", "stateWebhookUrl", "meta")
        call.update({name: copy.deepcopy(body[name]) for name in updatable if name in body})
        if "state" in body:
            call["state"] = body["state"]
        if begins is not None:
            call["startTime"] = start
        elif call["state"] == "waitingToActive":  # "if null, the call will be made immediately"
            call.update(state="active", startTime=_utc(self.clock()))
        call["updatedAt"] = _utc(self.clock())
        return JSONResponse(copy.deepcopy(call))

    async def _list_click_to_calls(self, request: Request) -> Response:
        return JSONResponse([copy.deepcopy(item) for item in self.click_to_calls.values()])

    # -- private --------------------------------------------------------------------------
    def _shown(self, account_id: str) -> str:
        number = PEOPLE[account_id][2] if account_id in PEOPLE else ""
        return _mask(number) if self.mask_numbers and number else number

    @staticmethod
    def _content(body: Json | bytes) -> dict[str, Any]:
        return (
            {"content": body, "headers": {"Content-Type": "application/json"}}
            if isinstance(body, bytes)
            else {"json": body}
        )

    def _record(self, url: str, body: Json | bytes, response: httpx.Response) -> httpx.Response:
        recorded = body if isinstance(body, dict) else {"raw": body.decode("utf-8", "replace")}
        self.deliveries.append(WebhookDelivery(url, copy.deepcopy(recorded), response.status_code))
        return response

    def _seed(self) -> None:
        now = self.clock()
        created = _utc(now - timedelta(days=2))
        weekdays = [{"weekday": day, "active": "1" if day not in ("saturday", "sunday") else "0"} for day in WEEKDAYS]

        def receiver(account_id: str, reply_field: str = "rsvpReply") -> Json:
            first, last, phone = PEOPLE[account_id]
            return {
                "accountId": account_id,
                "groupId": None,
                "phone": phone,
                "firsName": first,  # sic: the seed's spelling
                "lastName": last,
                "answered": 0,
                reply_field: "noAnswer",  # an RSVP receiver's 'rsvpReply', a click-to-call receiver's 'reply'
                "callDuration": 0,
                "dialledCalls": 0,
                "latestCallAt": None,  # not called yet
            }

        def rsvp(rsvp_call_id: str, name: str, state: str, accounts: list[str], **extra: Any) -> Json:
            call: Json = {
                "rsvpCallId": rsvp_call_id,
                "state": state,
                "startTime": _utc(now - timedelta(hours=3)),
                "endTime": _utc(now + timedelta(days=1)),
                "activeFrom": "08:00:00",
                "activeTo": "22:00:00",
                "activeWeekdays": copy.deepcopy(weekdays),
                "voiceFiles": [
                    {"type": kind, "voiceFileId": f"vf-{kind}"}
                    for kind in ("start", "data", "actionButtons", "accept", "end")
                ],
                "actionButtons": [{"button": "5", "action": "accept"}, {"button": "9", "action": "decline"}],
                "receivers": [receiver(a) for a in accounts],
                "acceptsWanted": 2,
                "maxRedials": 3,
                "receiverWebhookUrl": None,
                "stateWebhookUrl": None,
                "meta": {"name": name, "names": {a: " ".join(PEOPLE[a][:2]) for a in accounts}},
                "stats": {
                    "totalDialedCalls": 0,
                    "answeredCalls": 0,
                    "totalDuration": 0,
                    "acceptsReceived": 0,
                    "declinesAndNoRepliesReceived": 0,
                    "notAnsweredCalls": 0,
                },
                "updatedAt": created,
                "createdAt": created,
            }
            call.update(extra)
            return call

        self.rsvp_calls = {
            "7": rsvp("7", "Night shift", "active", ["808", "809", "810"]),
            "8": rsvp("8", "Summer party", "complete", ["808"]),
            "9": rsvp(
                "9",
                "Inventory",
                "halt",
                ["809"],
                receiverWebhookUrl=FOREIGN_URL + "/receiver",
                stateWebhookUrl=FOREIGN_URL + "/state",
            ),
        }
        self.click_to_calls = {
            "12": {
                "clickToCallId": "12",
                "expiresAt": _utc(now + timedelta(days=7)),
                "activeFrom": "00:00:00",
                "activeTo": "23:59:59",
                "activeWeekdays": copy.deepcopy(weekdays),
                "voiceFileId": 31,  # an int here, a string in RSVP voiceFiles: as the seed prints them
                "actionButtons": [{"button": "1", "action": "accept"}, {"button": "2", "action": "decline"}],
                "receivers": [receiver("809", "reply"), receiver("808", "reply")],
                "maxRedials": 2,
                "receiverWebhookUrl": None,
                "meta": {"name": "On-call escalation", "names": {"808": "Anna Virtanen", "809": "Mikko Korhonen"}},
                "stats": {
                    "totalDialedCalls": 0,
                    "answeredCalls": 0,
                    "totalDuration": 0,
                    "acceptsReceived": 0,
                    "acceptsDeclined": 0,
                    "notAnsweredCalls": 0,
                },
                "updatedAt": created,
                "createdAt": created,
            }
        }
