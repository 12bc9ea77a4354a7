"""Dstny Core User API adapter.

One API ticket (``Authorization: Bearer``) belonging to a *service user* drives everything;
a user who linked their own ticket acts with that instead. Paths live in
:mod:`adapters.dstny.paths`; vendor payloads are validated with small pydantic models so a
surprising answer becomes :class:`VendorUnavailable`, never a ``KeyError``.

Whose id goes into ``{user}``: the seed describes ``user`` as "the user accessing the API" for
the configuration, contact-list and (deprecated) agent-login operations, so those get the
ticket owner (the *caller*); presence, call-back and the ACD group list are *about* someone,
so they get the subject. Agent login uses the current operation (004 ~490-513: the group's
domain, group, agent with domain, action), and the deprecated form only where an installation
answers that one 404/405; the deprecated form follows public:[P1], which logs other agents in
with its own user id in ``{user}`` and the agent (with domain) in ``{agent}``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from adapters.base import AdapterConfig, VendorAdapter
from adapters.dstny.alerts import RESOLVED_NOTE, TAKEN_NOTE
from adapters.dstny.paths import AGENT_LOGIN, ENDPOINTS, MISSING_FORM_STATUSES
from adapters.dstny.polling import AlertPolling
from adapters.errors import NotFound, VendorAuthError, VendorRejected, VendorUnavailable
from adapters.http import RetryPolicy, VendorHttpClient
from adapters.models import (
    Activity,
    Capability,
    Contact,
    DialResult,
    PollResult,
    Presence,
    PresenceChange,
    QueueStatus,
    VendorIdentity,
    VendorUser,
)
from adapters.redaction import excerpt

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: What ``/queue status`` goes without when Dstny refuses queue statistics (no Supervisor licence).
STATISTICS_LEFT_OUT = "queue statistics (longest wait, answered/missed: the Supervisor licence)"

#: Sent on every Dstny request, body or not. The User API introduction ("HTTP conventions",
#: public:[D2] in shared/vendors/dstny.md §3) says both headers must be set to a suitable value
#: on all requests; JSON is the only current format (XML is deprecated). 004 itself, the
#: operations' text, does not print them.
REQUEST_HEADERS: Mapping[str, str] = {"Accept": "application/json", "Content-Type": "application/json"}

#: Users whose discovered answer place is kept at most (expired entries go first).
ANSWER_PLACES_CACHED = 10_000

#: Page size for contact searches (the vendor's own default is 25).
SEARCH_LIMIT = 25

#: Neutral activity words -> vendor ids/names to try, best first (compared normalised).
NEUTRAL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "available": ("available", "free", "working", "online"),
    "lunch": ("lunch",),
    "meeting": ("meeting", "in a meeting"),
    "away": ("away", "be right back", "brb", "out"),
    "out": ("out", "out of office", "away"),
    "vacation": ("vacation", "holiday", "on leave", "out of office", "out"),
    "dnd": ("dnd", "do not disturb", "busy"),
    "busy": ("busy", "dnd", "do not disturb"),
}
_DND_WORDS = frozenset({"dnd", "do not disturb"})

#: phonebot's words for Dstny's validation codes; users never see the vendor's own text.
_REASONS = {
    "number.invalid": "that isn't a valid phone number",
    "aptype.invalid": "your answer place can't take call-back calls",
    "user.does.not.exist": "the linked Dstny user doesn't exist",
    "activity.does.not.exist": "that activity doesn't exist",
    "agent.not.member": "you aren't an agent of that queue",
    "date.invalid": "the end time wasn't accepted",
}

log = logging.getLogger(__name__)


class DstnyConfig(AdapterConfig):
    """Settings for one Dstny Core organisation.

    ``base_url`` is the operator's edge address without ``/api`` (e.g. ``https://bc.dstny.se``);
    a trailing ``/api`` is tolerated. ``token`` is the service user's API ticket.
    """

    token: SecretStr
    domain: str = Field(min_length=1)
    user: str = Field(min_length=1)
    #: Where call-back rings a user whose own answer places say nothing better (see ``DstnyAdapter.dial``).
    answer_place: str = Field(default="mobile", min_length=1)
    #: Per-user answer place, by Dstny user id (``alice``, or ``jensen@partner.example``): wins over discovery.
    answer_places: dict[str, str] = Field(default_factory=dict)
    #: How long a user's discovered answer places are reused before they are read again.
    answer_places_cache_seconds: float = Field(default=3600, ge=0)
    language: str = "en"

    @field_validator("user")
    @classmethod
    def _bare_user(cls, value: str) -> str:
        if "@" in value:
            raise ValueError("give the service user's bare id, without @domain")
        return value

    @field_validator("answer_places")
    @classmethod
    def _answer_places(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {user.strip().lower(): place.strip() for user, place in value.items()}
        if any(not user or not place for user, place in cleaned.items()):
            raise ValueError("each entry maps a Dstny user id to an answer place id, e.g. {alice: mobile}")
        return cleaned


# -- vendor payload shapes (only the fields the adapter reads) ----------------------------------
class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _PresenceActivity(_Vendor):
    id: str
    expiration: str | None = None
    available: bool | None = None


class _Presence(_Vendor):
    activity: _PresenceActivity | None = None
    available: bool | None = None
    note: str | None = None


class _ContactInfo(_Vendor):
    presence: _Presence | None = None


class _ActivityItem(_Vendor):
    id: str
    name: str | None = None
    stateName: str | None = None
    available: bool = False


class _Activities(_Vendor):
    activity: list[_ActivityItem] = Field(default_factory=list)


class _AnswerPlace(_Vendor):
    id: str
    name: str | None = None


class _AnswerPlaces(_Vendor):
    answerplace: list[_AnswerPlace] = Field(default_factory=list)


class _Diversion(_Vendor):
    diversion_number: str | None = Field(default=None, alias="diversion-number")


class _ValidationItem(_Vendor):
    fieldName: str | None = None
    code: str | None = None
    description: str | None = None


class _Validation(_Vendor):
    """Dstny's validation result: field errors, warnings and a generated id."""

    field: list[_ValidationItem] = Field(default_factory=list)
    generated_id: str | None = Field(default=None, alias="generated-id")


class _Statistic(_Vendor):
    numberOfLoggedInAgents: int | None = None
    numberOfFreeAgents: int | None = None
    numberOfCallsInQueue: int | None = None


class _Agent(_Vendor):
    id: str | None = None
    isLoggedIn: bool | None = None


class _Group(_Vendor):
    id: int
    domain: str | None = None
    name: str
    loggedIn: bool | None = None
    isLoggedIn: bool | None = None  # the deprecated single-group shape
    agents: list[_Agent] = Field(default_factory=list)
    statistic: _Statistic | None = None


class _Groups(_Vendor):
    groups: list[_Group] = Field(default_factory=list)


class _QueueStats(_Vendor):
    id: int | None = None
    domain: str | None = None
    name: str | None = None
    queueLength: int | None = None
    longestWaiting: int | None = None
    answeredCallsLast24h: int | None = None
    droppedCallsLast24h: int | None = None
    answeredCallsForPeriod: int | None = None
    droppedCallsForPeriod: int | None = None


class _QueueStatsList(_Vendor):
    queue: list[_QueueStats] = Field(default_factory=list)


class _PhoneNumber(_Vendor):
    number: str | None = None


class _Contact(_Vendor):
    id: str | None = None
    contactEntryId: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    company: str | None = None
    email: str | None = None
    type: str | None = None
    preferredNumber: str | None = None
    phonenumbers: list[_PhoneNumber] = Field(default_factory=list)


class _ContactList(_Vendor):
    contact: list[_Contact] = Field(default_factory=list)


class DstnyAdapter(VendorAdapter):
    """Dstny Core via its User API: presence, call forwarding, call-back, ACD queues and contact search.

    Args:
        config: a :class:`DstnyConfig`.
        transport: optional httpx transport (tests).
        retry: retry policy for idempotent calls (tests shorten it).
    """

    name = "dstny"
    display_name = "Dstny"
    config_model = DstnyConfig
    endpoints = ENDPOINTS
    acts_as_token_owner = False
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PRESENCE_READ,
            Capability.PRESENCE_WRITE,
            Capability.PRESENCE_ACTIVITIES,
            Capability.DIAL,
            Capability.CALL_FORWARD,
            Capability.QUEUE_STATUS,
            Capability.QUEUE_LOGIN,
            Capability.CONTACT_SEARCH,
            Capability.DIRECTORY,
            Capability.ALERT_POLLING,
            Capability.ALERT_CLAIM,
            Capability.VOICEMAIL_HEARD,
        }
    )

    def __init__(
        self,
        config: AdapterConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(config, DstnyConfig):
            raise TypeError("DstnyAdapter needs a DstnyConfig")
        super().__init__(config, transport=transport)
        self.settings = config
        base_url = str(config.base_url).rstrip("/")
        base_url = base_url.removesuffix("/api")  # every path in ENDPOINTS starts with /api
        self._base_url = base_url
        self._http = VendorHttpClient(
            vendor=self.display_name,
            base_url=base_url,
            endpoints=self.operation_paths(),
            default_headers=REQUEST_HEADERS,
            timeout=httpx.Timeout(config.timeout_seconds, connect=min(3.0, config.timeout_seconds)),
            retry=retry,
            transport=transport,
            reasons=_REASONS,
        )
        self._monotonic = monotonic
        self._answer_places: dict[str, tuple[float, str]] = {}  # cid -> (good until, answer place)
        self._group_names: dict[str, str] = {}
        self._groups_looked_up: set[str] = set()  # ids asked for once, so an unlisted group costs one call
        self._alerts = AlertPolling(
            self._http,
            domain=config.domain,
            user=config.user,
            token=config.token.get_secret_value,
            group_names=self._names_of_groups,
            caller_names=self._names_of_callers,
            vendor=self.display_name,
        )

    async def aclose(self) -> None:
        """Release HTTP connections."""
        await self._http.aclose()

    def service_identity(self) -> VendorIdentity:
        """The service user whose ticket is configured."""
        return VendorIdentity(vendor=self.name, user_id=self.settings.user)

    # -- presence -------------------------------------------------------------------------
    async def get_presence(self, identity: VendorIdentity) -> Presence:
        """Presence of ``identity``, with the activity's display name where Dstny gives one."""
        activities = await self._optional(self.list_activities(identity))
        return await self._read_presence(identity, activities or [])

    async def set_presence(self, identity: VendorIdentity, change: PresenceChange) -> Presence:
        """Set the activity, then its end time (``never`` when open-ended); return the read-back.

        ``change.note`` (phonebot's own label) is not written to Dstny's presence note.
        """
        activities = await self.list_activities(identity)
        activity = resolve_activity(change.activity, activities)
        if activity is None:
            names = ", ".join(a.name for a in activities) or "none"
            raise VendorRejected(
                self.display_name,
                f"\u201c{change.activity}\u201d isn't a {self.display_name} activity. Choose one of: {names}.",
            )
        expires = format_expiry(change.until)
        # The seed lists activity/available/expires as plain parameters (no body object), i.e.
        # query parameters; `available` is left out so the activity's own default applies.
        if self._acts_as_self(identity):
            target = self._user_path(identity)
            set_activity, set_expiry = "presence.self.activity", "presence.self.expires"
        else:
            target = {"domain": self._domain(identity), "cid": self._cid(identity)}
            set_activity, set_expiry = "contact.activity", "contact.expires"
        token = self._token(identity)
        await self._http.call(set_activity, token=token, path_params=target, params={"activity": activity.id})
        await self._http.call(set_expiry, token=token, path_params=target, params={"expires": expires})
        return await self._read_presence(identity, activities)

    async def list_activities(self, identity: VendorIdentity) -> list[Activity]:
        """Activities the acting ticket's user may choose from, localised to ``config.language``."""
        body = await self._http.call(
            "activities",
            token=self._token(identity),
            path_params=self._caller_path(identity),
            params={"language": self.settings.language},
        )
        parsed = self._parse(_Activities, body, "activities")
        return [
            Activity(id=item.id, name=item.name or item.stateName or item.id, available=item.available)
            for item in parsed.activity
        ]

    # -- call forwarding ------------------------------------------------------------------
    async def set_forwarding(self, identity: VendorIdentity, number: str, *, until: datetime | None) -> Presence:
        """Divert ``identity``'s calls to ``number`` while they show *away* (until ``until``, else no end).

        The Diversion API's active diversion number (004 ~7862) has no end time and no documented
        delete, but ``activityScoped=true`` clears it "after a change of presence activity". So
        the activity is set first (away, ending at ``until``), then the scoped diversion: when the
        activity ends, or the user sets another one (``/presence available``), Dstny clears it.
        The order matters, because setting the activity after the diversion would clear it.
        """
        presence = await self.set_presence(identity, PresenceChange(activity="away", until=until))
        await self._http.call(
            "diversion.active.set",
            token=self._token(identity),
            path_params=self._user_path(identity, user="userId"),
            params={"phoneNumber": number, "activityScoped": "true"},
        )
        return presence

    async def get_forwarding(self, identity: VendorIdentity) -> str | None:
        """The active diversion number (004 ~7849), or ``None`` when there is none."""
        body = await self._http.call(
            "diversion.active", token=self._token(identity), path_params=self._user_path(identity, user="userId")
        )
        if body is None or (isinstance(body, str) and not body.strip()):
            return None
        number = self._parse(_Diversion, body, "diversion number").diversion_number
        return number.strip() if number and number.strip() else None

    # -- calls ----------------------------------------------------------------------------
    async def dial(self, identity: VendorIdentity, number: str) -> DialResult:
        """Call-back: ring ``identity``'s answer place, then ``number``. Never retried.

        ``aptype`` "should be a valid answerplace for the specified user" (004 ~1350): the user's
        override in ``answer_places``, else one of the answer places Dstny lists for them
        (:meth:`answer_place_of`).
        """
        aptype = await self.answer_place_of(identity)
        body = await self._http.call(
            "callback",
            token=self._token(identity),
            path_params={
                **self._user_path(identity),
                "aptype": aptype,
                "cid": number,
            },
        )
        try:
            result = _Validation.model_validate(body)
        except ValidationError:
            # The phone is ringing by now: an odd success body must not read as a failure
            # (the user would dial again).
            return DialResult(target=number)
        if result.field:
            problem = result.field[0]
            log.info("Dstny refused the call-back: %s", excerpt(problem.description or problem.code or ""))
            worded = _REASONS.get(problem.code or "", "it did not accept the call")
            raise VendorRejected(self.display_name, f"{self.display_name} refused the call: {worded}")
        return DialResult(target=number, reference=result.generated_id or None)

    async def answer_place_of(self, identity: VendorIdentity) -> str:
        """Where call-back rings ``identity`` first.

        The configured override for the user wins. Otherwise the user's answer places are read
        (004 ~8191, "Read mapping for the possible devices the user can set up calls from"; cached
        for ``answer_places_cache_seconds``): the organisation's ``answer_place`` when it is one of
        them, else the first Dstny lists (the list has no default flag). When Dstny won't say
        (refused, unknown, unreadable), the organisation's ``answer_place`` is used as before.
        """
        override = self._answer_place_override(identity)
        if override is not None:
            return override
        key = self._cid(identity).lower()
        now = self._monotonic()
        cached = self._answer_places.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        places = await self._optional(self._discover_answer_places(identity))
        ids = [place.id for place in places or []]
        wanted = self.settings.answer_place
        chosen = wanted if wanted in ids or not ids else ids[0]
        if places is None:
            log.info("Dstny did not list answer places; call-back uses %s", wanted, extra={"vendor": self.name})
        if len(self._answer_places) >= ANSWER_PLACES_CACHED:
            self._answer_places = {k: v for k, v in self._answer_places.items() if v[0] > now}
        self._answer_places[key] = (now + self.settings.answer_places_cache_seconds, chosen)
        return chosen

    async def _discover_answer_places(self, identity: VendorIdentity) -> list[_AnswerPlace]:
        body = await self._http.call(
            "answerplaces",
            token=self._token(identity),
            path_params=self._user_path(identity),
            params={"language": self.settings.language},
        )
        try:
            return _AnswerPlaces.model_validate(body).answerplace
        except ValidationError as exc:
            raise VendorRejected(self.display_name, "unreadable answer places") from exc

    def _answer_place_override(self, identity: VendorIdentity) -> str | None:
        overrides = self.settings.answer_places
        if not overrides:
            return None
        own_org = self._domain(identity).lower() == self.settings.domain.lower()
        keys = [self._cid(identity).lower(), *([self._bare(identity).lower()] if own_org else [])]
        return next((overrides[key] for key in keys if key in overrides), None)

    # -- queues ---------------------------------------------------------------------------
    async def queue_status(self, identity: VendorIdentity) -> list[QueueStatus]:
        """ACD/attendant groups of ``identity``, enriched with Supervisor statistics when licensed.

        ``group_id`` is the bare group id for groups of the configured organisation and
        ``"<id>@<group-domain>"`` for a group owned by another organisation, so
        :meth:`queue_login` can rebuild the ``{group}/{group-domain}`` pair.
        """
        token = self._token(identity)
        body = await self._http.call(
            "acd.groups",
            token=token,
            path_params=self._user_path(identity),
        )
        groups = self._parse(_Groups, body, "ACD groups").groups
        self._group_names.update({str(g.id): g.name for g in groups})
        stats = await self._optional(self._queue_statistics(identity)) if groups else None
        if groups and stats is None:
            self.leave_out(Capability.QUEUE_STATUS, STATISTICS_LEFT_OUT)
        agent = self._cid(identity).lower()
        result: list[QueueStatus] = []
        for group in groups:
            group_domain = group.domain or self.settings.domain
            stat = group.statistic or _Statistic()
            extra = _match_stats(stats or [], group, group_domain) or _QueueStats()
            me = group.loggedIn if group.loggedIn is not None else group.isLoggedIn
            if me is None:
                me = next((a.isLoggedIn for a in group.agents if a.id and a.id.lower() == agent), None)
            result.append(
                QueueStatus(
                    group_id=self._group_id(group.id, group_domain),
                    name=group.name,
                    calls_waiting=_first(stat.numberOfCallsInQueue, extra.queueLength),
                    longest_wait_seconds=extra.longestWaiting,
                    agents_logged_in=stat.numberOfLoggedInAgents,
                    agents_free=stat.numberOfFreeAgents,
                    # Rolling 24 h counts have a fixed meaning; "ForPeriod" depends on an admin
                    # setting we cannot read, so it is only the fallback.
                    answered_today=_first(extra.answeredCallsLast24h, extra.answeredCallsForPeriod),
                    missed_today=_first(extra.droppedCallsLast24h, extra.droppedCallsForPeriod),
                    me_logged_in=me,
                )
            )
        return result

    async def queue_login(self, identity: VendorIdentity, group_id: str, *, logged_in: bool) -> None:
        """Log ``identity`` in to or out of ACD group ``group_id`` (as returned by :meth:`queue_status`)."""
        group, _, group_domain = group_id.strip().partition("@")
        if not group.isdigit():
            raise VendorRejected(self.display_name, f"\u201c{group_id}\u201d isn't a {self.display_name} group id")
        group_domain = group_domain or self.settings.domain
        forms = AGENT_LOGIN.candidates(self._base_url)
        for form in forms:
            if form == "acd.agent":  # current: the group's domain, group, agent (seed 004 ~490-513)
                where = {"domain": group_domain, "group": group, "agent": self._cid(identity)}
            else:  # deprecated: the caller's domain and user, then the group's (seed 004 ~514-541)
                where = {**self._caller_path(identity), "group": group, "group-domain": group_domain}
                where["agent"] = self._cid(identity)
            try:
                await self._http.call(
                    form,
                    token=self._token(identity),
                    path_params=where,
                    params={"action": "login" if logged_in else "logout"},
                )
            except (NotFound, VendorRejected) as exc:
                # 404/405 before any form has worked: this installation lacks the form (nothing was
                # changed), so the next one is tried. Anything else is Dstny's answer.
                if exc.status_code not in MISSING_FORM_STATUSES or form == forms[-1]:
                    raise
                log.info(
                    "Dstny answered %s to the current agent login; trying the deprecated form",
                    exc.status_code,
                    extra={"vendor": self.name, "endpoint": form},
                )
                continue
            if AGENT_LOGIN.working(self._base_url) != form:
                AGENT_LOGIN.remember(self._base_url, form)
                log.info("Dstny agent login works with %s", form, extra={"vendor": self.name})
            return

    # -- alerts ---------------------------------------------------------------------------
    async def poll_alerts(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
        """Lost calls from the group call log and voicemails from the Communication Log (see
        :mod:`adapters.dstny.alerts`), read as the configured service user."""
        return await self._alerts.poll(cursor, now=now)

    def poll_backlog(self, cursor: Mapping[str, Any] | None) -> str | None:
        """What a saved poll cursor has not read yet: group call-log ranges a full round left, or a first start's."""
        return self._alerts.backlog(cursor)

    async def claim_alert(self, identity: VendorIdentity, event_detail: Mapping[str, Any], *, handled: bool) -> None:
        """Assign the lost call's group call-log item to ``identity`` (INPROGRESS), or mark it HANDLED."""
        item_id = str(event_detail.get("calllog_item_id") or "")
        if not item_id:
            raise VendorRejected(self.display_name, "this alert has no group call-log item to update")
        note = RESOLVED_NOTE if handled else TAKEN_NOTE
        await self._alerts.assign(self._bare(identity), self._token(identity), item_id, handled=handled, note=note)

    async def mark_voicemail_heard(self, identity: VendorIdentity, voicemail_id: str) -> None:
        """Mark the voicemail seen and played in the service user's Communication Log.

        The polled voicemails live in the service user's log, so its ticket is used whoever clicked.
        """
        await self._alerts.mark_heard(voicemail_id)

    async def _names_of_groups(self, group_ids: set[str]) -> Mapping[str, str]:
        """Group names by bare id; the ACD group list is fetched only for ids not seen before."""
        if group_ids - self._group_names.keys() - self._groups_looked_up:
            body = await self._optional(
                self._http.call(
                    "acd.groups",
                    token=self.settings.token.get_secret_value(),
                    path_params={"domain": self.settings.domain, "user": self.settings.user},
                    params={"ignoreAgents": "true", "ignoreStatistics": "true"},
                )
            )
            self._groups_looked_up |= group_ids
            if body is not None:
                for group in self._parse(_Groups, body, "ACD groups").groups:
                    self._group_names[str(group.id)] = group.name
        return self._group_names

    async def _names_of_callers(self, numbers: list[str]) -> Mapping[str, str]:
        """Directory names for E.164 ``numbers`` (exact number match; unknown numbers are left out)."""
        found: dict[str, str] = {}
        for number in numbers[:10]:  # a burst of new callers must not turn into a burst of searches
            contacts = await self._optional(self._contact_list(self.service_identity(), number, 5)) or []
            for contact in contacts:
                if number in {contact.preferredNumber, *(n.number for n in contact.phonenumbers)}:
                    found[number] = _to_contact(contact).name
                    break
        return found

    # -- directory ------------------------------------------------------------------------
    async def search_contacts(self, identity: VendorIdentity, query: str) -> list[Contact]:
        """Directory, shortcut and personal contacts where a word starts with ``query``."""
        return [_to_contact(c) for c in await self._contact_list(identity, query.strip(), SEARCH_LIMIT)]

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        """Directory colleagues among the caller's favourites.

        The known Dstny material has no "list all users" path. A contact search without a
        query returns the caller's favourites (which an organisation can fill from its
        favourites templates); public:[P1] relies on exactly that to map emails to user ids.
        """
        users = [self._to_user(c) for c in await self._contact_list(identity, "", None)]
        return [u for u in users if u is not None]

    async def search_users(self, identity: VendorIdentity, query: str, *, limit: int) -> list[VendorUser]:
        """Directory users among the contacts where a word starts with ``query`` (no "list all users" path)."""
        needle = query.strip()
        if not needle:
            return []
        users = [self._to_user(c) for c in await self._contact_list(identity, needle, SEARCH_LIMIT)]
        return [u for u in users if u is not None][:limit]

    async def find_user_by_email(self, identity: VendorIdentity, email: str) -> VendorUser | None:
        """Search the contact list for ``email``; fall back to the favourites (see :meth:`list_users`)."""
        wanted = email.strip().lower()
        if not wanted:
            return None
        for contact in await self._contact_list(identity, wanted, 10):
            user = self._to_user(contact)
            if user is not None and (user.email or "").strip().lower() == wanted:
                return user
        # Whether email is a searchable field is not documented, so also match client-side.
        return await super().find_user_by_email(identity, email)

    # -- private --------------------------------------------------------------------------
    async def _read_presence(self, identity: VendorIdentity, activities: list[Activity]) -> Presence:
        token = self._token(identity)
        if self._acts_as_self(identity):
            body = await self._http.call(
                "presence.self",
                token=token,
                path_params=self._user_path(identity),
            )
            raw = self._parse(_Presence, body, "presence")
        else:
            body = await self._http.call(
                "contact.info", token=token, path_params={"domain": self._domain(identity), "cid": self._cid(identity)}
            )
            raw = self._parse(_ContactInfo, body, "contact").presence or _Presence()
        return self._to_presence(identity, raw, activities)

    def _to_presence(self, identity: VendorIdentity, raw: _Presence, activities: list[Activity]) -> Presence:
        vendor_activity = raw.activity
        available = _first(raw.available, vendor_activity.available if vendor_activity else None)
        if available is None:
            # Dstny hides presence the caller has no rights to (activityAccess NONE).
            raise VendorAuthError(
                self.display_name, f"{self.display_name} does not let phonebot see {identity.user_id}'s presence"
            )
        activity: Activity | None = None
        until: datetime | None = None
        if vendor_activity is not None:
            known = next((a for a in activities if a.id == vendor_activity.id), None)
            activity_available = vendor_activity.available
            if activity_available is None:
                activity_available = known.available if known else available
            activity = Activity(
                id=vendor_activity.id,
                name=known.name if known else vendor_activity.id,
                available=activity_available,
            )
            until = self._parse_expiry(vendor_activity.expiration)
        dnd = activity is not None and bool({_norm(activity.id), _norm(activity.name)} & _DND_WORDS)
        return Presence(available=available, activity=activity, dnd=dnd, until=until, note=raw.note or None)

    async def _queue_statistics(self, identity: VendorIdentity) -> list[_QueueStats]:
        body = await self._http.call(
            "queuestats.user",
            token=self._token(identity),
            path_params=self._caller_path(identity),
        )
        return self._parse(_QueueStatsList, body, "queue statistics").queue

    async def _contact_list(self, identity: VendorIdentity, query: str, limit: int | None) -> list[_Contact]:
        params: dict[str, str] = {}
        if query:
            params["query"] = query
        if limit is not None:
            params["maxResults"] = str(limit)
        body = await self._http.call(
            "contacts.list",
            token=self._token(identity),
            path_params=self._caller_path(identity),
            params=params,
        )
        return self._parse(_ContactList, body, "contacts").contact

    def _to_user(self, contact: _Contact) -> VendorUser | None:
        if contact.type != "DIRECTORY" or not contact.id:
            return None
        found = _to_contact(contact)
        bare, _, domain = contact.id.partition("@")
        # A directory user of a partner organisation keeps its domain, or call-back would ring a namesake here.
        user_id = bare if not domain or domain.lower() == self.settings.domain.lower() else contact.id
        return VendorUser(user_id=user_id, name=found.name, email=found.email, number=found.number)

    async def _optional(self, call: Awaitable[T]) -> T | None:
        """``call``'s result, or ``None`` when Dstny refuses it for licence/rights reasons."""
        try:
            return await call
        except (VendorAuthError, NotFound, VendorRejected):
            return None

    def _parse(self, model: type[M], body: Any, what: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise VendorUnavailable(
                self.display_name, f"{self.display_name} sent an unexpected answer ({what})"
            ) from exc

    def _parse_expiry(self, value: str | None) -> datetime | None:
        if value is None or value.strip().lower() in ("", "never"):
            return None
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise VendorUnavailable(
                self.display_name, f"{self.display_name} sent an unexpected answer (expiry {value!r})"
            ) from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def _acts_as_self(self, identity: VendorIdentity) -> bool:
        own_org = self._domain(identity).lower() == self.settings.domain.lower()
        return identity.token is not None or (own_org and self._bare(identity) == self.settings.user)

    def _token(self, identity: VendorIdentity) -> str:
        return identity.token or self.settings.token.get_secret_value()

    def _bare(self, identity: VendorIdentity) -> str:
        return identity.user_id.partition("@")[0]

    def _domain(self, identity: VendorIdentity) -> str:
        """The user's own organisation: the one in ``user@domain``, else the configured one."""
        return identity.user_id.partition("@")[2] or self.settings.domain

    def _cid(self, identity: VendorIdentity) -> str:
        return f"{self._bare(identity)}@{self._domain(identity)}"

    def _user_path(self, identity: VendorIdentity, *, user: str = "user") -> dict[str, str]:
        """``{domain}/{user}`` of ``identity`` itself (a user of a partner organisation keeps its domain).

        ``user`` is the placeholder's name: 004 calls it ``userId`` in some operations.
        """
        return {"domain": self._domain(identity), user: self._bare(identity)}

    def _caller_path(self, identity: VendorIdentity) -> dict[str, str]:
        """``{domain}/{user}`` of the ticket's owner: the user with their own ticket, else the service user."""
        if identity.token:
            return self._user_path(identity)
        return {"domain": self.settings.domain, "user": self.settings.user}

    def _group_id(self, group: int, group_domain: str) -> str:
        return str(group) if group_domain.lower() == self.settings.domain.lower() else f"{group}@{group_domain}"


def resolve_activity(wanted: str, activities: list[Activity]) -> Activity | None:
    """The vendor activity meant by ``wanted``: an id or name, else a neutral word's synonyms."""
    key = _norm(wanted)
    for candidate in (key, *NEUTRAL_SYNONYMS.get(key, ())):
        for activity in activities:
            if candidate in (_norm(activity.id), _norm(activity.name)):
                return activity
    return None


def format_expiry(until: datetime | None) -> str:
    """Dstny's activity end time: ISO-8601 UTC with ``Z``, or ``never``."""
    if until is None:
        return "never"
    moment = until.replace(tzinfo=UTC) if until.tzinfo is None else until.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


def _first(*values: T | None) -> T | None:
    return next((v for v in values if v is not None), None)


def _id(contact: _Contact) -> str | None:
    return contact.id or contact.contactEntryId


def _to_contact(contact: _Contact) -> Contact:
    name = " ".join(p for p in (contact.firstname, contact.lastname) if p) or contact.company or _id(contact) or "?"
    numbers = [contact.preferredNumber, *(n.number for n in contact.phonenumbers)]
    # Contact.number is E.164; short internal numbers ("5001") are left out.
    number = next((n for n in numbers if n and n.startswith("+")), None)
    return Contact(
        id=_id(contact) or name,
        name=name,
        number=number,
        email=contact.email or None,
        colleague=contact.type == "DIRECTORY",
    )


def _match_stats(stats: list[_QueueStats], group: _Group, group_domain: str) -> _QueueStats | None:
    """The Supervisor statistics row for ``group``: by id and domain, else by name."""
    for row in stats:
        if row.id == group.id and (row.domain or group_domain).lower() == group_domain.lower():
            return row
    return next((row for row in stats if row.name and row.name.lower() == group.name.lower()), None)
