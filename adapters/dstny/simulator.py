"""A stateful Dstny Core User API simulator: the subset :class:`DstnyAdapter` uses, over real HTTP.

Presence set through either presence API reads back (and lapses at its end time), agent
login/logout changes ``loggedIn`` and the agent counts, and every call-back is recorded in
``dials``. For alerts it keeps a group call log (calls aggregated per group, caller and type,
with ``callCount`` and ``handledStatus``; assignments are recorded in ``assignments``) and a
Communication Log with voicemails (personal and group inbox), driven by :meth:`~DstnySimulator.miss_call`,
:meth:`~DstnySimulator.answer_call`, :meth:`~DstnySimulator.handle_call`,
:meth:`~DstnySimulator.leave_voicemail` and friends; :meth:`~DstnySimulator.set_queue` drives the
queue figures. Every vendor route wants ``Authorization: Bearer <token>`` with a token from
``tokens`` and answers 401 ``{"status": "failure", ...}`` otherwise, and ``Accept`` and
``Content-Type`` of ``application/json`` (400 with a validation result otherwise). Demo data: organisation
``example.com``, service user ``phonebot``, users ``alice``/``bob``/``carol``, ACD groups
35 "Support" and 36 "Sales", and a few external contacts (two of them "Jensen").

Usage::

    from adapters.dstny.adapter import DstnyAdapter, DstnyConfig
    from adapters.dstny.simulator import DstnySimulator
    from adapters.simulation import LoopbackServer

    sim = DstnySimulator()
    with LoopbackServer(sim.build_app()) as server:
        adapter = DstnyAdapter(
            DstnyConfig(base_url=server.url, token="dstny-demo-token", domain="example.com", user="phonebot")
        )
        ...  # await adapter.dial(adapter.identity_for(...), "+4540000001"); sim.dials[-1].target
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.simulation import SimulatorBase

Handler = Callable[[Request], Awaitable[Response]]

DEMO_TOKEN = "dstny-demo-token"


@dataclass
class SimActivity:
    """A presence activity offered by the organisation."""

    id: str
    name: str
    available: bool
    default: bool = False


@dataclass
class SimUser:
    """A directory user and their current presence."""

    user_id: str
    firstname: str
    lastname: str
    email: str | None = None
    number: str | None = None
    activity: str = "available"
    available: bool = True
    expires: datetime | None = None
    note: str | None = None
    answer_places: tuple[str, ...] = ("mobile",)
    diversion: str | None = None  # the active diversion number (004 ~7862)
    diversion_scoped: bool = False  # cleared on the next change of activity (activityScoped)
    favourite: bool = True
    domain: str | None = None  # a partner organisation's user; None = the simulator's own domain


@dataclass
class SimContact:
    """A shortcut or personal contact (not a Dstny user)."""

    id: str
    firstname: str = ""
    lastname: str = ""
    company: str = ""
    number: str | None = None
    email: str | None = None
    type: str = "SHORTCUT"
    favourite: bool = False


@dataclass
class SimGroup:
    """An ACD group with its members, who is logged in, and queue figures."""

    id: int
    name: str
    domain: str
    members: list[str]
    logged_in: set[str]
    calls_in_queue: int = 0
    number: str | None = None
    type: str = "ACD"
    longest_waiting: int = 0
    answered_period: int = 0
    dropped_period: int = 0
    answered_24h: int = 0
    dropped_24h: int = 0
    #: Free agents as reported, when a test pins it (otherwise: logged-in agents who are available).
    free_agents: int | None = None


@dataclass
class SimCallLogItem:
    """One group call-log item: ``call_count`` calls of one type from one caller to one group."""

    item_id: int
    group_id: int
    caller: str
    item_type: str  # MISSED / ANSWERED / FORWARDED
    start_time: datetime
    call_count: int = 1
    agent: str | None = None  # who answered (ANSWERED)
    handled_state: str = "UNHANDLED"
    handled_by: str | None = None
    handled_at: datetime | None = None
    note: str | None = None


@dataclass
class SimAssignment:
    """One ``PUT …/calllog/{itemid}`` as received."""

    user: str
    item_id: int
    state: str
    note: str | None


@dataclass
class SimVoicemail:
    """A voicemail in ``user``'s Communication Log, or in a group inbox when ``inbox`` is set."""

    item_id: int
    user: str
    caller: str
    caller_name: str | None
    duration: int
    start_time: datetime
    inbox: str | None = None
    is_seen: bool = False
    is_played: bool = False
    deleted: bool = False


@dataclass
class SimDial:
    """One call-back request as received; ``raw_path`` keeps the percent-encoding."""

    user: str
    aptype: str
    target: str
    raw_path: str
    role: str | None
    reference: str
    domain: str = "example.com"


def _demo_users() -> dict[str, SimUser]:
    users = [
        SimUser("phonebot", "Phonebot", "Service", favourite=False),
        SimUser("alice", "Alice", "Andersen", "alice@example.com", "+4571000001"),
        SimUser("bob", "Bob", "Berg", "bob@example.com", "+4571000002", activity="meeting", available=False),
        SimUser("carol", "Carol", "Christensen", "carol@example.com", "+4571000003"),
    ]
    return {u.user_id: u for u in users}


def _demo_activities() -> list[SimActivity]:
    return [
        SimActivity("available", "Available", True, default=True),
        SimActivity("lunch", "Lunch", False),
        SimActivity("meeting", "Meeting", False),
        SimActivity("away", "Away", False),
        SimActivity("out", "Out of office", False),
        SimActivity("vacation", "Vacation", False),
        SimActivity("dnd", "Do not disturb", False),
        SimActivity("busy", "Busy", False),
    ]


def _demo_groups() -> dict[int, SimGroup]:
    return {
        35: SimGroup(
            35,
            "Support",
            "example.com",
            members=["alice", "bob", "carol"],
            logged_in={"alice", "bob"},
            calls_in_queue=2,
            number="+4570000035",
            longest_waiting=95,
            answered_period=31,
            dropped_period=3,
            answered_24h=42,
            dropped_24h=4,
        ),
        36: SimGroup(
            36,
            "Sales",
            "example.com",
            members=["alice", "carol"],
            logged_in={"carol"},
            number="+4570000036",
            answered_period=12,
            dropped_period=1,
            answered_24h=17,
            dropped_24h=1,
        ),
    }


def _demo_contacts() -> list[SimContact]:
    return [
        SimContact("sc1001@example.com", company="Acme Corp Reception", number="+4533000001", favourite=True),
        SimContact("sc1002@example.com", firstname="Jens", lastname="Jensen", number="+4540000001"),
        SimContact("sc1003@example.com", company="Jensen Plumbing", number="+4540000002"),
    ]


def _change_activity(user: SimUser, activity: str) -> None:
    """Set ``user``'s activity; a change clears an ``activityScoped`` diversion (004 ~7881)."""
    if activity != user.activity and user.diversion_scoped:
        user.diversion, user.diversion_scoped = None, False
    user.activity = activity


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime | None) -> str:
    return "NEVER" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _validation(field_name: str, code: str, description: str, *, status: int = 400) -> Response:
    item = {"fieldName": field_name, "code": code, "description": description, "name": field_name}
    return JSONResponse({"field": [item], "warning": [], "generated-id": ""}, status_code=status)


def _media_type(value: str | None) -> str:
    return (value or "").partition(";")[0].strip().lower()


def _unsuitable_headers(request: Request) -> Response | None:
    """400 unless ``Accept`` and ``Content-Type`` are both ``application/json``, as Dstny requires.

    The User API introduction (public:[D2], shared/vendors/dstny.md §3) requires both headers
    "set to a suitable value" on all requests, body or not, and lists 400 for an invalid header
    (§7); JSON is the only current format, so ``*/*`` (httpx's default) is not taken as suitable.
    """
    accepted = {_media_type(part) for part in request.headers.get("accept", "").split(",")}
    if "application/json" not in accepted:
        return _validation("Accept", "header.invalid", "Accept must be application/json")
    if _media_type(request.headers.get("content-type")) != "application/json":
        return _validation("Content-Type", "header.invalid", "Content-Type must be application/json")
    return None


def _history(items: list[Any], now: datetime) -> dict[str, Any]:
    """A Communication Log list answer as 004 shows one (~1620, ~1738): items, flushCache, generatedAt, hintCount."""
    return {"historyItems": items, "flushCache": False, "generatedAt": _stamp(now), "hintCount": len(items)}


def _failure(status: int, message: str) -> Response:
    return JSONResponse({"status": "failure", "code": status, "message": message}, status_code=status)


@dataclass
class DstnySimulator(SimulatorBase):
    """The Dstny Core User API subset phonebot uses, with demo data and mutable state.

    Args:
        tokens: Bearer tokens accepted on every vendor route.
        domain: the organisation's domain.
        service_user: the service user's bare id.
        supervisors: users holding the Supervisor licence (queue statistics, logging others in/out).
        clock: the current time (tests may freeze it).
    """

    tokens: set[str] = field(default_factory=lambda: {DEMO_TOKEN})
    domain: str = "example.com"
    service_user: str = "phonebot"
    users: dict[str, SimUser] = field(default_factory=_demo_users)
    activities: list[SimActivity] = field(default_factory=_demo_activities)
    groups: dict[int, SimGroup] = field(default_factory=_demo_groups)
    contacts: list[SimContact] = field(default_factory=_demo_contacts)
    supervisors: set[str] = field(default_factory=lambda: {"phonebot"})
    dials: list[SimDial] = field(default_factory=list)
    #: Raw rows appended to every call-log / Communication Log answer, as a vendor bug might send them (tests).
    odd_calllog_rows: list[Any] = field(default_factory=list)
    odd_commlog_rows: list[Any] = field(default_factory=list)
    calllog: list[SimCallLogItem] = field(default_factory=list)
    assignments: list[SimAssignment] = field(default_factory=list)
    voicemails: list[SimVoicemail] = field(default_factory=list)
    clock: Callable[[], datetime] = field(default_factory=lambda: _utcnow)
    #: Order of group call-log answers, before ``limit`` is applied: "newest_first", "oldest_first" or
    #: "shuffled" (004 does not document one, so phonebot must not depend on it).
    calllog_order: str = "newest_first"
    #: Whose ticket each token is (operations without ``{user}`` act as its owner); default: the service user.
    token_owners: dict[str, str] = field(default_factory=dict)
    #: Which agent login forms this installation answers: "current" (004 ~490-513) and/or "deprecated" (~514-541).
    agent_login_forms: set[str] = field(default_factory=lambda: {"current", "deprecated"})
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001), init=False, repr=False)
    _calllog_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(15), init=False, repr=False)
    _commlog_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(370), init=False, repr=False)

    # -- helpers for tests ----------------------------------------------------------------
    def presence_of(self, user: str) -> SimUser:
        """``user``'s record with the current presence (an expired activity has lapsed)."""
        record = self.users[user]
        if record.expires is not None and record.expires <= self.clock():
            _change_activity(record, "available")
            record.available, record.expires = True, None
        return record

    def change_in_app(self, user: str, activity: str, *, until: datetime | None = None) -> None:
        """``user`` picks ``activity`` (until ``until``) in Dstny's own app, not through the API phonebot uses:
        the same state the activity and expires PUTs of the User Information API set (vendors/dstny.md §5.1,
        rows ``PUT .../activity`` and ``.../activity/expires``; the app itself is *inferred* to share it)."""
        record = self.users[user]
        chosen = next(a for a in self.activities if a.id == activity)
        _change_activity(record, chosen.id)
        record.available, record.expires = chosen.available, until

    def is_logged_in(self, user: str, group: int) -> bool:
        """Whether ``user`` is logged in to ACD group ``group``."""
        return user in self.groups[group].logged_in

    def miss_call(self, group_id: int, caller: str) -> SimCallLogItem:
        """A caller gave up in ``group_id``'s queue: a new MISSED item, or one more call on theirs.

        Like Dstny, calls aggregate per group, caller and type; once an item is HANDLED a new
        miss starts a fresh item (an inference: the seed does not say).
        """
        return self._log_call(group_id, caller, "MISSED")

    def answer_call(self, group_id: int, caller: str, agent: str = "alice") -> SimCallLogItem:
        """``agent`` answered a call from ``caller`` in ``group_id`` (an ANSWERED item)."""
        return self._log_call(group_id, caller, "ANSWERED", agent=agent)

    def handle_call(self, item_id: int, agent: str, *, state: str = "HANDLED", note: str | None = None) -> None:
        """Someone set an item's handled state in a Dstny client (not through phonebot)."""
        item = self._calllog_item(item_id)
        assert item is not None, f"no call-log item {item_id}"
        item.handled_state, item.handled_by, item.handled_at, item.note = state, agent, self.clock(), note

    def leave_voicemail(
        self,
        caller: str,
        *,
        name: str | None = None,
        duration: int = 20,
        user: str | None = None,
        inbox: str | None = None,
    ) -> SimVoicemail:
        """A voicemail for ``user`` (the service user by default), or into group inbox ``inbox``."""
        voicemail = SimVoicemail(
            next(self._commlog_ids), user or self.service_user, caller, name, duration, self.clock(), inbox
        )
        self.voicemails.append(voicemail)
        return voicemail

    def play_voicemail(self, item_id: int) -> None:
        """Someone listened to the voicemail in a Dstny client."""
        voicemail = next(v for v in self.voicemails if v.item_id == item_id)
        voicemail.is_seen = voicemail.is_played = True

    def delete_voicemail(self, item_id: int) -> None:
        """Someone deleted the voicemail in a Dstny client."""
        next(v for v in self.voicemails if v.item_id == item_id).deleted = True

    def set_queue(
        self,
        group_id: int,
        *,
        waiting: int | None = None,
        longest_wait: int | None = None,
        free_agents: int | None = None,
    ) -> None:
        """Pin a group's calls waiting, longest wait (seconds) and/or free agents."""
        group = self.groups[group_id]
        if waiting is not None:
            group.calls_in_queue = waiting
        if longest_wait is not None:
            group.longest_waiting = longest_wait
        if free_agents is not None:
            group.free_agents = free_agents

    # -- routes ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The vendor routes, each behind the Bearer check."""
        table: list[tuple[str, Handler, str]] = [
            ("/api/userinfo/presence/{domain}/{user}", self._self_presence, "GET"),
            ("/api/userinfo/presence/{domain}/{user}/activity", self._self_activity, "PUT"),
            ("/api/userinfo/presence/{domain}/{user}/activity/expires", self._self_expires, "PUT"),
            ("/api/userinfo/presence/{domain}/{user}/activity/expires", self._self_expires_get, "GET"),
            ("/api/contacts/info/v1/{domain}/{cid}", self._contact_info, "GET"),
            ("/api/contacts/info/v1/{domain}/{cid}/presence/activity", self._contact_activity, "PUT"),
            ("/api/contacts/info/v1/{domain}/{cid}/presence/activity/expires", self._contact_expires, "PUT"),
            ("/api/configuration/{domain}/{user}/activities", self._activities, "GET"),
            ("/api/configuration/{domain}/{user}/answerplaces", self._answerplaces, "GET"),
            ("/api/calls/current/{domain}/{user}/{aptype}/{cid}", self._callback, "POST"),
            ("/api/diversion/{domain}/{user}/active", self._diversion, "GET"),
            ("/api/diversion/{domain}/{user}/active", self._set_diversion, "PUT"),
            ("/api/diversion/{domain}/{user}/active", self._set_diversion, "POST"),
            ("/api/user/acd-attendant-group/v1/{domain}/{user}", self._acd_groups, "GET"),
            ("/api/acd-attendant-group/v1/{domain}/{group}/agents/{agent}", self._acd_agent, "POST"),
            (
                "/api/user/acd-attendant-group/{domain}/{user}/{group}/{group_domain}/agents/{agent}",
                self._acd_agent_deprecated,
                "POST",
            ),
            ("/api/queuestatistics/user/{domain}/{user}", self._queue_statistics, "GET"),
            ("/api/contacts/list/{domain}/{user}", self._contact_list, "GET"),
            ("/api/user/distribution-group/{domain}/{user}/calllog", self._calllog, "GET"),
            ("/api/user/distribution-group/{domain}/{user}/calllog/{itemid}", self._calllog_assign, "PUT"),
            ("/api/commlog/{domain}/{user}", self._commlog, "GET"),
            ("/api/commlog/{domain}/{user}/groupinbox", self._groupinbox, "GET"),
            ("/api/commlog/{domain}/{user}/{item}", self._commlog_mark, "PUT"),
        ]
        return [Route(path, self._guarded(handler), methods=[method]) for path, handler, method in table]

    def _guarded(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token not in self.tokens:
                return _failure(401, "Not authorized: unknown or missing API ticket")
            refused = _unsuitable_headers(request)
            if refused is not None:
                return refused
            known = {self.domain, *(user.domain for user in self.users.values() if user.domain)}
            if request.path_params.get("domain") not in known:
                return _validation("domain", "domain.does.not.exist", "No such organisation")
            return await handler(request)

        return endpoint

    # -- presence -------------------------------------------------------------------------
    async def _self_presence(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        return JSONResponse(self._presence_json(user))

    async def _self_activity(self, request: Request) -> Response:
        return self._set_activity(request, request.path_params["user"])

    async def _self_expires(self, request: Request) -> Response:
        return self._set_expires(request, request.path_params["user"])

    async def _self_expires_get(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        return PlainTextResponse("never" if user.expires is None else _stamp(user.expires))

    async def _contact_info(self, request: Request) -> Response:
        user = self._user_by_cid(request.path_params["cid"])
        if user is None:
            return _failure(404, "Contact not found")
        return JSONResponse(self._contact_json(user, with_id=False))

    async def _contact_activity(self, request: Request) -> Response:
        user = self._user_by_cid(request.path_params["cid"])
        if user is None:
            return _failure(404, "Contact not found")
        return self._set_activity(request, user.user_id)

    async def _contact_expires(self, request: Request) -> Response:
        user = self._user_by_cid(request.path_params["cid"])
        if user is None:
            return _failure(404, "Contact not found")
        return self._set_expires(request, user.user_id)

    def _set_activity(self, request: Request, user_id: str) -> Response:
        user = self._user(user_id)
        if user is None:
            return self._no_user(user_id)
        wanted = request.query_params.get("activity")
        activity = next((a for a in self.activities if a.id == wanted), None)
        if activity is None:
            return _validation("activity", "activity.does.not.exist", f"Unknown activity: {wanted}")
        available = request.query_params.get("available")
        if available not in (None, "true", "false"):
            return _validation("available", "boolean.invalid", "available must be true or false")
        _change_activity(user, activity.id)
        user.available = activity.available if available is None else available == "true"
        user.expires = None
        return PlainTextResponse(str(user.available).lower())

    def _set_expires(self, request: Request, user_id: str) -> Response:
        user = self._user(user_id)
        if user is None:
            return self._no_user(user_id)
        raw = request.query_params.get("expires", "")
        if raw.lower() == "never":
            user.expires = None
            return PlainTextResponse("never")
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return _validation("expires", "date.invalid", f"Not an ISO-8601 time or 'never': {raw}")
        if moment.tzinfo is None or not raw.endswith("Z"):
            return _validation("expires", "date.invalid", "The end time must be UTC with a 'Z' suffix")
        user.expires = moment
        return PlainTextResponse(raw)

    async def _activities(self, request: Request) -> Response:
        if self._user(request.path_params["user"], request.path_params["domain"]) is None:
            return self._no_user(request.path_params["user"])
        items = [
            {"id": a.id, "name": a.name, "available": a.available, "default": a.default, "stateName": a.name}
            for a in self.activities
        ]
        return JSONResponse({"activity": items})

    async def _answerplaces(self, request: Request) -> Response:
        """004 ~8191: "Read mapping for the possible devices the user can set up calls from"."""
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        items = [{"id": place, "name": place.replace("_", " ").capitalize()} for place in user.answer_places]
        return JSONResponse({"answerplace": items})

    # -- diversion ------------------------------------------------------------------------
    async def _diversion(self, request: Request) -> Response:
        """004 ~7849 "Retrieves a user's active diversion number"."""
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        return JSONResponse({"diversion-number": user.diversion or ""})

    async def _set_diversion(self, request: Request) -> Response:
        """004 ~7862 "Sets a user's active diversion number" (POST or PUT): phoneNumber, activityScoped."""
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        number = request.query_params.get("phoneNumber", "").strip()
        digits = number.removeprefix("+")
        if not (digits.isdigit() and 3 <= len(digits) <= 15):
            return _validation("phoneNumber", "number.invalid", f"Not a diversion number: {number}")
        scoped = request.query_params.get("activityScoped", "false")
        if scoped not in ("true", "false"):
            return _validation("activityScoped", "boolean.invalid", "activityScoped must be true or false")
        user.diversion, user.diversion_scoped = number, scoped == "true"
        return JSONResponse({"diversion-number": number})

    # -- calls ----------------------------------------------------------------------------
    async def _callback(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        aptype = request.path_params["aptype"]
        if aptype not in user.answer_places:
            return _validation("aptype", "aptype.invalid", f"{aptype} is not an answer place of {user.user_id}")
        target: str = request.path_params["cid"]
        digits = target[1:]
        if not (target.startswith("+") and digits.isdigit() and 6 <= len(digits) <= 15) and (
            self._user_by_cid(target) is None
        ):
            return _validation("cid", "number.invalid", f"Not a valid number or contact: {target}")
        reference = f"cb-{next(self._ids)}"
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        role = request.query_params.get("role")
        self.dials.append(SimDial(user.user_id, aptype, target, raw_path, role, reference, user.domain or self.domain))
        return JSONResponse({"field": [], "warning": [], "generated-id": reference})

    # -- queues ---------------------------------------------------------------------------
    async def _acd_groups(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        ignore_stats = request.query_params.get("ignoreStatistics") == "true"
        ignore_agents = request.query_params.get("ignoreAgents") == "true"
        groups = []
        for group in self.groups.values():
            if user.user_id not in group.members and user.user_id not in self.supervisors:
                continue
            item: dict[str, Any] = {
                "id": group.id,
                "domain": group.domain,
                "name": group.name,
                "type": group.type,
                "loggedIn": user.user_id in group.logged_in,
                "nightMode": False,
                "roles": [{"type": "AGENT" if user.user_id in group.members else "SUPERVISOR"}],
                "allowUsingFunctionNumber": True,
                "distributionType": "PRIORITY",
            }
            if not ignore_agents:
                item["agents"] = [self._agent_json(group, member) for member in group.members]
            if not ignore_stats:
                logged_in, free = self._agent_counts(group)
                item["statistic"] = {
                    "numberOfLoggedInAgents": logged_in,
                    "numberOfFreeAgents": free,
                    "numberOfCallsInQueue": group.calls_in_queue,
                }
            groups.append(item)
        return JSONResponse({"groups": groups})

    async def _acd_agent(self, request: Request) -> Response:
        """The current login/logout (004 ~490-513): ``domain`` is the group's organisation, the caller the ticket's."""
        if "current" not in self.agent_login_forms:
            return PlainTextResponse("Not Found", status_code=404)  # an installation without this form
        caller = self._token_owner(request)
        return self._agent_action(request, caller, request.path_params["domain"])

    async def _acd_agent_deprecated(self, request: Request) -> Response:
        """The deprecated login/logout (004 ~514-541): the caller's ``domain``/``user``, then the group's."""
        if "deprecated" not in self.agent_login_forms:
            return PlainTextResponse("Not Found", status_code=404)
        caller = request.path_params["user"]
        if self._user(caller) is None:
            return self._no_user(caller)
        return self._agent_action(request, caller, request.path_params["group_domain"])

    def _agent_action(self, request: Request, caller: str, group_domain: str) -> Response:
        try:
            group = self.groups[int(request.path_params["group"])]
        except (ValueError, KeyError):
            return _failure(404, "No such ACD group")
        if group.domain != group_domain:
            return _failure(404, "No such ACD group in that domain")
        agent = self._user_by_cid(request.path_params["agent"])
        if agent is None or agent.user_id not in group.members:
            return _validation("agent", "agent.not.member", f"{request.path_params['agent']} is not an agent here")
        if agent.user_id != caller and caller not in self.supervisors:
            return _failure(403, f"{caller} may not log other agents in or out")
        action = request.query_params.get("action")
        if action == "login":
            group.logged_in.add(agent.user_id)
        elif action == "logout":
            group.logged_in.discard(agent.user_id)
        else:
            return _validation("action", "action.invalid", "action must be login or logout")
        return JSONResponse(f"Agent {agent.user_id}@{self.domain} {action} done")

    async def _queue_statistics(self, request: Request) -> Response:
        user = request.path_params["user"]
        if self._user(user) is None:
            return self._no_user(user)
        if user not in self.supervisors:
            return _failure(403, "The Supervisor licence is required for queue statistics")
        queues = []
        for group in self.groups.values():
            logged_in, free = self._agent_counts(group)
            queues.append(
                {
                    "name": group.name,
                    "domain": group.domain,
                    "number": group.number,
                    "id": group.id,
                    "queueLength": group.calls_in_queue,
                    "availableAgents": free,
                    "loggedInAgents": logged_in,
                    "longestWaiting": group.longest_waiting,
                    "lastWait": group.longest_waiting // 2,
                    "averageWait": group.longest_waiting // 3,
                    "droppedCallsForPeriod": group.dropped_period,
                    "totalCallsForPeriod": group.answered_period + group.dropped_period,
                    "answeredCallsForPeriod": group.answered_period,
                    "totalCallsLast24h": group.answered_24h + group.dropped_24h,
                    "droppedCallsLast24h": group.dropped_24h,
                    "answeredCallsLast24h": group.answered_24h,
                    "current-agent-presence": [{"name": "Available", "count": free}],
                }
            )
        return JSONResponse({"queue": queues})

    # -- group call log -------------------------------------------------------------------
    async def _calllog(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        wanted = {t.upper() for t in request.query_params.getlist("itemType")} - {"ALL"}
        try:
            since = int(request.query_params.get("since", "0"))
            older = int(request.query_params.get("olderThan", "0")) or None
            limit = int(request.query_params.get("limit", "0")) or None
        except ValueError:
            return _validation("limit", "number.invalid", "since, olderThan and limit must be numbers")
        caller = request.query_params.get("callerNumber")
        visible = {g.id for g in self.groups.values() if user.user_id in g.members or user.user_id in self.supervisors}
        items = [
            item
            for item in self._calllog_in_order()
            if item.group_id in visible
            and (not wanted or item.item_type in wanted)
            and item.item_id > since
            and (older is None or item.item_id < older)
            and (caller is None or item.caller == caller)
        ]
        counts = {t: sum(i.call_count for i in items if i.item_type == t) for t in ("ANSWERED", "FORWARDED", "MISSED")}
        return JSONResponse(
            {
                "generatedAt": _stamp(self.clock()),
                "flushCache": False,
                "hintCount": len(items),
                "callCountAnswered": counts["ANSWERED"],
                "callCountForwarded": counts["FORWARDED"],
                "callCountMissed": counts["MISSED"],
                "callLogItem": [*self.odd_calllog_rows, *(self._calllog_json(item) for item in items[:limit])],
            }
        )

    async def _calllog_assign(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        try:
            item = self._calllog_item(int(request.path_params["itemid"]))
            body = await request.json()
        except ValueError:
            return _validation("itemid", "body.invalid", "itemid must be a number and the body JSON")
        if item is None:
            return _failure(404, "No such call log item")
        state = body.get("state") if isinstance(body, dict) else None
        if state not in ("UNHANDLED", "INPROGRESS", "HANDLED"):
            return _validation("state", "state.invalid", "state must be UNHANDLED, INPROGRESS or HANDLED")
        note = body.get("note")
        self.assignments.append(SimAssignment(user.user_id, item.item_id, state, note))
        item.handled_state, item.handled_by, item.handled_at, item.note = state, user.user_id, self.clock(), note
        return JSONResponse(self._calllog_json(item))

    # -- communication log ----------------------------------------------------------------
    async def _commlog(self, request: Request) -> Response:
        user = self._user(request.path_params["user"], request.path_params["domain"])
        if user is None:
            return self._no_user(request.path_params["user"])
        wanted = {t.upper() for t in request.query_params.getlist("itemType")}
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            return _validation("since", "number.invalid", "since must be a number")
        items = [
            {".VoiceMailDTO": self._voicemail_json(v)}
            for v in self.voicemails
            if v.user == user.user_id
            and v.inbox is None
            and not v.deleted
            and v.item_id > since
            and (not wanted or "VOICEMAIL" in wanted)
        ]
        items = [*self.odd_commlog_rows, *items]
        return JSONResponse(_history(items, self.clock()))

    async def _groupinbox(self, request: Request) -> Response:
        if self._user(request.path_params["user"], request.path_params["domain"]) is None:
            return self._no_user(request.path_params["user"])
        items = [
            {".GroupInboxVoiceMailDTO": self._voicemail_json(v)}
            for v in self.voicemails
            if v.inbox is not None and not v.deleted
        ]
        return JSONResponse(_history(items, self.clock()))

    async def _commlog_mark(self, request: Request) -> Response:
        if self._user(request.path_params["user"], request.path_params["domain"]) is None:
            return self._no_user(request.path_params["user"])
        flags = {name: request.query_params.get(name) for name in ("isSeen", "isPlayed", "updateCallItem")}
        if any(value not in ("true", "false") for value in flags.values()):
            return _validation("isSeen", "boolean.invalid", "isSeen, isPlayed and updateCallItem are required booleans")
        voicemail = next((v for v in self.voicemails if str(v.item_id) == request.path_params["item"]), None)
        if voicemail is None or voicemail.deleted:
            return _failure(404, "No such communication log item")
        voicemail.is_seen = voicemail.is_seen or flags["isSeen"] == "true"
        voicemail.is_played = voicemail.is_played or flags["isPlayed"] == "true"
        return Response(status_code=204)

    # -- contacts -------------------------------------------------------------------------
    async def _contact_list(self, request: Request) -> Response:
        if self._user(request.path_params["user"], request.path_params["domain"]) is None:
            return self._no_user(request.path_params["user"])
        query = request.query_params.get("query", "").strip().lower()
        try:
            limit = int(request.query_params.get("maxResults", "25"))
        except ValueError:
            return _validation("maxResults", "number.invalid", "maxResults must be a number")
        entries: list[tuple[str, list[str], bool, dict[str, Any]]] = []
        for user in self.users.values():
            words = [user.firstname, user.lastname, user.email or "", user.number or ""]
            entries.append((f"{user.firstname} {user.lastname}", words, user.favourite, self._contact_json(user)))
        for contact in self.contacts:
            name = f"{contact.firstname} {contact.lastname}".strip() or contact.company
            words = [contact.firstname, contact.lastname, contact.company, contact.email or "", contact.number or ""]
            entries.append((name, words, contact.favourite, self._shortcut_json(contact)))
        found = []
        for _, words, favourite, body in sorted(entries, key=lambda e: e[0].lower()):
            # "contacts where any word in a searchable field starts with the stated query" (seed)
            tokens = " ".join(words).lower().split()
            if (query and all(any(t.startswith(q) for t in tokens) for q in query.split())) or (
                not query and favourite
            ):
                found.append(body)
        return JSONResponse({"query": query, "contact": found[:limit]})

    # -- private --------------------------------------------------------------------------
    def _user(self, user_id: str, domain: str | None = None) -> SimUser | None:
        """The user ``user_id`` of organisation ``domain`` (default: the simulator's own)."""
        wanted = (domain or self.domain).lower()
        for key, user in self.users.items():
            if user.user_id == user_id and (user.domain or self.domain).lower() == wanted:
                return self.presence_of(key)
        return None

    def _token_owner(self, request: Request) -> str:
        token = request.headers.get("authorization", "").partition(" ")[2]
        return self.token_owners.get(token, self.service_user)

    def _user_by_cid(self, cid: str) -> SimUser | None:
        user_id, _, domain = cid.partition("@")
        return self._user(user_id, domain) if domain else None

    def _no_user(self, user_id: str) -> Response:
        return _validation("user", "user.does.not.exist", f"No user {user_id} in {self.domain}")

    def _presence_json(self, user: SimUser, *, role: bool = False) -> dict[str, Any]:
        """A presence as 004 shows it: the accessing user's (~8652) without a role, a contact's (~4840) with one."""
        body: dict[str, Any] = {
            "futurePresenceAccess": "WRITE",
            "activityAccess": "WRITE",
            "roleAccess": "WRITE",
            "noteAccess": "WRITE",
            "note": user.note or "",
            "activity": {"id": user.activity, "expiration": _stamp(user.expires), "available": user.available},
            "idle": False,
            "available": user.available,
            "capabilities": ["SMS"],
        }
        if role:
            body["role"] = "business"
        return body

    def _contact_json(self, user: SimUser, *, with_id: bool = True) -> dict[str, Any]:
        """A directory contact in 004's contact shape (~4836, ~5915); ``id`` only in search answers, where
        public:[P1] reads it (no 004 example shows one)."""
        body: dict[str, Any] = {
            "firstname": user.firstname,
            "lastname": user.lastname,
            "company": "Example Org",
            "presence": self._presence_json(user, role=True),
            "incall": False,
            "inlist": user.favourite,
            "type": "DIRECTORY",
            "contactStatus": "FAVORITE" if user.favourite else "CONTACT",
            "vcard": 1,
            "collaboration": True,
            "phonenumbers": [{"number": user.number, "type": "mobile"}] if user.number else [],
        }
        if with_id:
            body = {"id": f"{user.user_id}@{user.domain or self.domain}", **body}
        if user.number:
            body["preferredNumber"] = user.number
        if user.email:
            body["email"] = user.email
        return body

    def _shortcut_json(self, contact: SimContact) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": contact.id,
            "firstname": contact.firstname,
            "lastname": contact.lastname,
            "company": contact.company,
            # A shortcut's presence, as a contact's whose presence the caller may not see (004 ~5919-5927).
            "presence": {
                "futurePresenceAccess": "NONE",
                "activityAccess": "NONE",
                "roleAccess": "NONE",
                "noteAccess": "NONE",
                "capabilities": [],
            },
            "type": contact.type,
            "inlist": contact.favourite,
            "vcard": 1,
            "contactStatus": "FAVORITE" if contact.favourite else "CONTACT",
            "collaboration": False,
        }
        if contact.number:
            body["preferredNumber"] = contact.number
        if contact.email:
            body["email"] = contact.email
        return body

    def _agent_json(self, group: SimGroup, user_id: str) -> dict[str, Any]:
        user = self.presence_of(user_id)
        activity = next((a.name for a in self.activities if a.id == user.activity), user.activity)
        return {
            "id": f"{user_id}@{self.domain}",
            "firstName": user.firstname,
            "lastName": user.lastname,
            "activity": activity,
            "skillLevel": 3,
            "isLoggedIn": user_id in group.logged_in,
            "isAvailable": user.available,
        }

    def _agent_counts(self, group: SimGroup) -> tuple[int, int]:
        logged_in = [u for u in group.members if u in group.logged_in]
        free = sum(1 for u in logged_in if self.presence_of(u).available)
        return len(logged_in), free if group.free_agents is None else group.free_agents

    def _log_call(self, group_id: int, caller: str, item_type: str, *, agent: str | None = None) -> SimCallLogItem:
        assert group_id in self.groups, f"no group {group_id}"
        now = self.clock()
        for item in self.calllog:
            if (item.group_id, item.caller, item.item_type) == (group_id, caller, item_type) and (
                item.handled_state != "HANDLED"
            ):
                item.call_count += 1
                item.start_time = now  # the latest call (inferred: the seed has one startTime per item)
                item.agent = agent or item.agent
                return item
        item = SimCallLogItem(next(self._calllog_ids), group_id, caller, item_type, now, agent=agent)
        self.calllog.append(item)
        return item

    def _calllog_in_order(self) -> list[SimCallLogItem]:
        """The log in :attr:`calllog_order` (004 does not say which order Dstny uses)."""
        items = sorted(self.calllog, key=lambda i: i.item_id, reverse=self.calllog_order != "oldest_first")
        if self.calllog_order == "shuffled":
            random.Random(len(self.requests)).shuffle(items)  # a different order for every request
        return items

    def _calllog_item(self, item_id: int) -> SimCallLogItem | None:
        return next((item for item in self.calllog if item.item_id == item_id), None)

    def _agent_ref(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        name = f"{user.firstname} {user.lastname}" if user else user_id
        ref: dict[str, Any] = {"name": name, "userId": user_id}
        if user is not None and user.number:  # a user without a number has none to show
            ref["number"] = user.number
        return ref

    def _calllog_json(self, item: SimCallLogItem) -> dict[str, Any]:
        group = self.groups[item.group_id]
        body: dict[str, Any] = {
            "itemId": item.item_id,
            "groupId": item.group_id,
            "groupOrgId": 0,
            "callCount": item.call_count,
            "itemType": item.item_type,
            "startTime": _stamp(item.start_time),
            "callDuration": 0 if item.item_type == "MISSED" else 60,
            "queueDuration": 30,
            "callMetaData": "",
            "diversionNumber": (group.number or "").lstrip("+"),
            "callerNumber": item.caller,
            "callbackToNumber": item.caller,
            "noteIncluded": item.note is not None,
        }
        if item.agent:
            body["agent"] = self._agent_ref(item.agent)
        status: dict[str, Any] = {"state": item.handled_state}
        if item.handled_by:
            status["agent"] = self._agent_ref(item.handled_by)
        if item.handled_at:
            status["timeStamp"] = _stamp(item.handled_at)
        if item.note:
            status["note"] = item.note
        body["handledStatus"] = status
        return body

    def _voicemail_json(self, voicemail: SimVoicemail) -> dict[str, Any]:
        """A voicemail item: a group inbox's has the fields of 004's example (~1740-1750, no duration);
        a personal one those of 004's call items (~1620) plus ``isPlayed`` (004 prints no personal voicemail)."""
        party: dict[str, Any] = {"number": voicemail.caller}
        if voicemail.caller_name:
            party["displayName"] = voicemail.caller_name
        body: dict[str, Any] = {
            "itemId": voicemail.item_id,
            "startTime": _stamp(voicemail.start_time),
            "remoteParty": party,
            "itemType": "VOICEMAIL",
            "isSeen": voicemail.is_seen,
        }
        if voicemail.inbox is not None:
            body.update(callItemId=0, isPlayed=voicemail.is_played, inboxName=voicemail.inbox)
        else:
            body.update(duration=voicemail.duration, isPlayed=voicemail.is_played)
        return body
