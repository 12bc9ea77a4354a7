"""Relatel (formerly Firmafon) REST API v2 behind phonebot's neutral contract.

How the contract maps onto Relatel (details in ``shared/vendors/relatel.md``):

* **Tokens.** The API acts as the token's owner (``/employee``, ``PUT /employee``,
  ``/switch/dial``, the 2014 group join/leave, recordings). The *service token* (``RelatelConfig.token``, an
  admin's) reads the company and may change anyone's DND; a user's *own token*
  (``VendorIdentity.token``) acts as that user. "Me" operations use the identity's own token
  when it has one, else the service token when the identity *is* its owner, else the admin
  endpoint ``/employees/{id}``. Company-wide reads (employees, groups, receptions, calls,
  statistics, contacts) always use the service token, so every user sees the same figures.
  A personal token is checked once against ``GET /employee`` and refused when it belongs to
  someone else.
* **Service identity.** The contract's ``service_identity()`` is synchronous, but only
  ``GET /employee`` knows who owns the service token. :meth:`RelatelAdapter.service_identity`
  therefore returns the owner once :meth:`RelatelAdapter.resolve_service_identity` has run
  (``probe()`` and every method that must know the owner call it) and before that a placeholder with
  ``user_id=""``. An empty ``user_id`` means "the service token's owner" everywhere in this
  adapter, so the placeholder works with every method and never names a wrong person.
* **Presence.** Relatel has no named activities: presence is ``do_not_disturb`` plus an
  optional ``dnd_timeout_at``; phonebot keeps labels such as "lunch" itself. ``available``
  is *not DND* and ``live_presence`` in ``{"available", "unknown"}`` ("unknown" is what
  Relatel reports when it cannot see a device, and the DESKBOX client treats it as callable).
  Any other live state (``"ringing"``, ...) gives ``available=False`` with the state as
  ``note``. A ``dnd_timeout_at`` in the past counts as not DND.
* **Queues.** Relatel has no live-queue endpoint. One :class:`QueueStatus` per reception
  (``reception:<id>``): calls waiting = calls from ``GET /calls?status=ringing`` with neither
  ``answered_at`` nor ``ended_at`` whose endpoint or any ``nodes[].endpoint`` is the
  reception's (filtered here: the live API ignores the ``endpoint`` filter); longest wait from
  the oldest ``started_at``; answered/missed today from ``/receptions/{id}/statistics`` since
  local midnight in ``RelatelConfig.timezone`` (``None`` when the plan lacks statistics). One
  per employee group (``group:<id>``): members are the logged-in agents, free agents are
  members not on DND whose ``live_presence`` is exactly ``"available"``, waiting calls as
  for receptions. Only groups have a login: membership, changed by the 2014 per-user join/leave
  where Relatel still answers it, else by the seed's admin update of the group's ``employee_ids``
  (a bounded read-modify-write, see :meth:`RelatelAdapter._set_membership`).
* **Alerts.** Lost calls are polled from ``GET /calls?ended_at_gt_or_eq=…`` and pushed by
  signed ``call.*`` webhooks (``Relatel-Signature``, :mod:`adapters.relatel.signature`), both
  mapped by :func:`adapters.relatel.alerts.lost_call_event`, so either path gives the same key;
  callbacks resolve them and voicemails (no webhook exists) are polled from ``GET /voice_mails``.
  A Listen link's audio is fetched as the mailbox's owner (:meth:`RelatelAdapter.voicemail_audio`).
  The mapping and the cursor are in :mod:`adapters.relatel.alerts`. Alert reads use the service
  token; ``alert_endpoints`` filters here (the live API ignores ``endpoint``).
* **Contacts.** The API searches contacts by number only. Names are matched here over at most
  :data:`MAX_CONTACT_PAGES` pages of 100 contacts, plus the employees (``colleague=True``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar, cast
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, HttpUrl, SecretStr

from adapters.base import AdapterConfig, ProbeResult, TimeZoneName, VendorAdapter
from adapters.errors import (
    IdentityError,
    NotFound,
    VendorAuthError,
    VendorError,
    VendorRejected,
    WebhookAuthError,
)
from adapters.events import AlertEvent
from adapters.http import RetryPolicy, VendorHttpClient
from adapters.models import (
    Capability,
    Contact,
    DialResult,
    PollResult,
    Presence,
    PresenceChange,
    QueueStatus,
    UserTokens,
    VendorIdentity,
    VendorUser,
    VoicemailAudio,
)
from adapters.relatel import alerts, wire
from adapters.relatel.paths import ENDPOINTS
from adapters.relatel.signature import verify_relatel_signature
from adapters.rows import readable_rows

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://app.relatel.dk/api/v2"
#: ``live_presence`` values that leave a non-DND person "available" (the set is undocumented).
REACHABLE_STATES = frozenset({"available", "unknown"})
#: The only ``live_presence`` that counts an agent as free in queue status.
FREE_STATE = "available"
PAGE_LIMIT = 100  # Relatel's maximum ``limit`` for calls and contacts
MAX_CONTACT_PAGES = 5
#: Pages of 100 calls one poll round reads at most (5,000 calls); the rest waits in the cursor's backlog.
MAX_CALL_PAGES = 50
VOICEMAIL_LIMIT = 50
#: Writes of a group's ``employee_ids`` one login makes at most when concurrent writes undo it.
MEMBERSHIP_TRIES = 3
SIGNATURE_HEADER = "relatel-signature"
DELIVERY_HEADER = "relatel-delivery-id"
DANISH_PREFIX = "45"

NEEDS_OWN_TOKEN = (
    "Relatel rings whoever owns the API token, and phonebot's shared Relatel token belongs to "
    "someone else, so calling from here would ring the wrong phone. Link your personal Relatel "
    "token to phonebot first (see the README, \u201cPer-user Relatel tokens\u201d)."
)
NO_OWNER_TOKEN = (
    "Relatel plays a personal voicemail only to its owner, and phonebot holds no Relatel token of "
    "this mailbox's owner. Listen to it in Relatel, or ask a phonebot admin to add the owner's "
    "personal token to their `users:` entry (see the README, \u201cPer-user Relatel tokens\u201d)."
)
WRONG_OWN_TOKEN = (
    "The Relatel token linked to your Slack account belongs to a different Relatel employee, so "
    "phonebot won't act with it. Ask a phonebot admin to fix your `users:` entry (see the README, "
    "\u201cPer-user Relatel tokens\u201d)."
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _all(*calls: Awaitable[T]) -> list[T]:
    """Run ``calls`` concurrently; raise the first failure only after all have finished."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)


class RelatelConfig(AdapterConfig):
    """Settings for the ``relatel`` vendor section.

    Args:
        base_url: API root; the Relatel host by default.
        token: an admin's personal access token: reads the company and sets anyone's DND.
            It rings *its owner's* phone, so users dial with their own tokens.
        answer_target_seconds: answer-time target sent with reception statistics.
        timezone: IANA zone that defines "today" for answered/missed counts.
        webhook_secret: the signing secret Relatel shows when the webhook is created
            (Firmaadministration → Webhooks); without it every webhook is refused.
        alert_endpoints: Relatel endpoints (``Reception#10``, ``EmployeeGroup#20``) whose lost
            calls and voicemails alert; empty means all of them.
        oauth_client_id, oauth_client_secret: a registered Relatel OAuth application; with both
            (and ``PHONEBOT_PUBLIC_URL`` and ``PHONEBOT_SECRET_KEY``) people link their own account
            from Slack, and its redirect URI is ``<PHONEBOT_PUBLIC_URL>/link/relatel/callback``.
    """

    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    token: SecretStr
    answer_target_seconds: int = Field(default=30, ge=1, le=3600)
    timezone: TimeZoneName = "Europe/Copenhagen"
    webhook_secret: SecretStr | None = None
    alert_endpoints: list[str] = Field(default_factory=list)
    #: A registered Relatel OAuth application (000 ~9): people link their own accounts with it.
    oauth_client_id: str | None = Field(default=None, max_length=200)
    oauth_client_secret: SecretStr | None = None


class RelatelAdapter(VendorAdapter):
    """Relatel REST API v2 (see the module docstring for the mapping).

    Args:
        config: a :class:`RelatelConfig`.
        transport: optional httpx transport (tests).
        retry: retry policy for idempotent calls (tests pass tiny delays).
        clock: returns the current aware UTC time (tests pin it).
    """

    name = "relatel"
    display_name = "Relatel"
    config_model = RelatelConfig
    endpoints = ENDPOINTS
    capabilities = frozenset(
        {
            Capability.PRESENCE_READ,
            Capability.PRESENCE_WRITE,
            Capability.DIAL,
            Capability.QUEUE_STATUS,
            Capability.QUEUE_LOGIN,
            Capability.CONTACT_SEARCH,
            Capability.DIRECTORY,
            Capability.ALERT_WEBHOOKS,
            Capability.ALERT_POLLING,
            Capability.VOICEMAIL_HEARD,
            Capability.VOICEMAIL_AUDIO,
        }
    )
    acts_as_token_owner = True
    #: ``restrict_to`` of ``POST /switch/dial``, seed 000 ~660: 'Enum: "" "web_call" "mobile" Can be
    #: empty, "web_call", or "mobile". If present, only rings on that device.' ("" = every device,
    #: which is what leaving it out does too.)
    dial_devices: ClassVar[Mapping[str, str]] = {"mobile": "mobile", "web_call": "Relatel web phone"}
    webhook_auth: ClassVar[Literal["signature", "url_token"]] = "signature"
    #: Pages of ``GET /calls`` one poll round reads at most (tests lower it to hit the limit).
    max_call_pages: int = MAX_CALL_PAGES

    def __init__(
        self,
        config: AdapterConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(config, RelatelConfig):
            raise TypeError(f"RelatelAdapter needs a RelatelConfig, not {type(config).__name__}")
        super().__init__(config, transport=transport)
        self.settings = config
        self._clock = clock or _utcnow
        self._zone = ZoneInfo(config.timezone)
        self._service_token = config.token.get_secret_value()
        self._service: VendorIdentity | None = None
        self._owners: dict[str, str] = {}  # token fingerprint -> owner's employee id
        #: Whether the 2014 per-user join/leave answers: None until tried, False once it 404/405s.
        self._join_leave_works: bool | None = None
        self._group_locks: dict[str, asyncio.Lock] = {}
        self._alert_endpoints = frozenset(e.strip() for e in config.alert_endpoints if e.strip())
        timeout = config.timeout_seconds
        self._http = VendorHttpClient(
            vendor=self.display_name,
            base_url=str(config.base_url),
            endpoints=self.operation_paths(),
            default_headers={"Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
            retry=retry,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Release HTTP connections."""
        await self._http.aclose()

    # -- identity -------------------------------------------------------------------------
    def service_identity(self) -> VendorIdentity:
        """The service token's owner, or a ``user_id=""`` placeholder until it is resolved.

        The placeholder stands for "whoever owns the service token" and is handled as such by
        every method, so callers may use it before :meth:`resolve_service_identity` has run.
        """
        if self._service is not None:
            return self._service
        return VendorIdentity(vendor=self.name, user_id="", display_name="Relatel service token")

    async def resolve_service_identity(self) -> VendorIdentity:
        """Look up (once) which employee owns the service token, via ``GET /employee``."""
        if self._service is None:
            await self._me(self._service_token)
        assert self._service is not None  # set by _me
        return self._service

    # -- presence -------------------------------------------------------------------------
    async def get_presence(self, identity: VendorIdentity) -> Presence:
        """DND state of ``identity`` (``GET /employee`` as themselves, else ``/employees/{id}``)."""
        token = await self._own_token(identity, verify=False)
        if token is not None:
            return self._presence(await self._me(token))
        body = await self._call("employee", token=self._service_token, path_params={"id": identity.user_id})
        return self._presence(wire.parse_employee(wire.unwrap_one(body, "employee")))

    async def set_presence(self, identity: VendorIdentity, change: PresenceChange) -> Presence:
        """``available`` clears DND; any other activity sets DND until ``change.until`` (or for good)."""
        if change.activity.strip().lower() == "available":
            fields: dict[str, Any] = {"do_not_disturb": False, "dnd_timeout_at": None}
        else:
            until = wire.format_time(change.until) if change.until is not None else None
            fields = {"do_not_disturb": True, "dnd_timeout_at": until}
        body = {"employee": fields}
        token = await self._own_token(identity, verify=False)
        if token is not None:
            answer = await self._call("employee.me.update", token=token, json=body)
        else:
            try:
                answer = await self._call(
                    "employee.update", token=self._service_token, path_params={"id": identity.user_id}, json=body
                )
            except VendorAuthError as exc:
                raise self._admin_needed(exc, "change a colleague's do-not-disturb") from exc
        if answer is None:
            return await self.get_presence(identity)
        return self._presence(wire.parse_employee(wire.unwrap_one(answer, "employee")))

    # -- calls ----------------------------------------------------------------------------
    async def dial(self, identity: VendorIdentity, number: str) -> DialResult:
        """``POST /switch/dial`` as ``identity`` (their phone rings first). Never retried.

        ``identity.dial_device`` (``users[].dial_device``) is sent as ``restrict_to``, so only
        that device rings; unset, the field is left out and Relatel rings as the user set it up.
        Raises :class:`IdentityError` before any request when the only usable token belongs
        to someone else: Relatel would ring that person's phone.
        """
        digits = wire.to_relatel_number(number)
        if digits is None:
            raise VendorRejected(self.display_name, f"\u201c{number}\u201d isn't a number Relatel can dial")
        device = identity.dial_device or None
        if device is not None and device not in self.dial_devices:
            raise VendorRejected(
                self.display_name, f"Relatel can ring only your {' or '.join(self.dial_devices.values())}"
            )
        token = await self._own_token(identity, verify=True)
        if token is None:
            raise IdentityError(NEEDS_OWN_TOKEN)
        body = {"to_number": digits} | ({"restrict_to": device} if device else {})
        await self._call("switch.dial", token=token, json=body)
        return DialResult(target=digits, rings=self.dial_devices[device] if device else None)

    # -- queues ---------------------------------------------------------------------------
    async def queue_status(self, identity: VendorIdentity) -> list[QueueStatus]:
        """Receptions (calls waiting, answered/missed today), then employee groups (agents)."""
        me_id = identity.user_id or await self._owner_of(identity.token or self._service_token)
        token = self._service_token
        receptions_body, calls_body, groups_body, employees_body = await _all(
            self._call("receptions", token=token),
            self._call("calls", token=token, params={"status": "ringing", "limit": PAGE_LIMIT}),
            self._call("employee_groups", token=token),
            self._call("employees", token=token),
        )
        receptions = [wire.parse_reception(raw) for raw in wire.unwrap_list(receptions_body, "receptions")]
        waiting = [call for raw in wire.unwrap_list(calls_body, "calls") if (call := wire.parse_call(raw)).waiting]
        groups = [wire.parse_group(raw) for raw in wire.unwrap_list(groups_body, "employee_groups")]
        employees = {e.id: e for e in map(wire.parse_employee, wire.unwrap_list(employees_body, "employees"))}
        now = self._clock()
        today = await _all(*(self._today(reception, now) for reception in receptions))

        statuses: list[QueueStatus] = []
        for reception, (answered, missed) in zip(receptions, today, strict=True):
            here = [call for call in waiting if reception.endpoint in call.endpoints]
            statuses.append(
                QueueStatus(
                    group_id=f"reception:{reception.id}",
                    name=reception.name,
                    calls_waiting=len(here),
                    longest_wait_seconds=_longest_wait(here, now),
                    answered_today=answered,
                    missed_today=missed,
                )
            )
        for group in groups:
            members = [employees[m] for m in group.employee_ids if m in employees]
            here = [call for call in waiting if group.endpoint in call.endpoints]
            statuses.append(
                QueueStatus(
                    group_id=f"group:{group.id}",
                    name=group.name,
                    calls_waiting=len(here),
                    longest_wait_seconds=_longest_wait(here, now),
                    agents_logged_in=len(group.employee_ids),
                    agents_free=sum(1 for m in members if not m.dnd_at(now) and m.live_presence == FREE_STATE),
                    me_logged_in=me_id in group.employee_ids,
                )
            )
        return statuses

    async def queue_login(self, identity: VendorIdentity, group_id: str, *, logged_in: bool) -> None:
        """Join or leave employee group ``group:<id>``; receptions have no login.

        With a token that acts as ``identity``, the 2014 ``POST /employee_groups/{id}/join|leave``
        (FF-DOCS) is tried first: it changes only this person's membership. The v2.1.2 seed no
        longer prints it; once it answers 404/405 for a group that exists, phonebot remembers
        that and from then on (and without an own token) uses the seed's admin update of the
        group's ``employee_ids`` (:meth:`_set_membership`).
        """
        kind, _, raw_id = group_id.partition(":")
        if kind == "reception":
            raise VendorRejected(
                self.display_name, "receptions have no agent login on Relatel; log in to a group instead"
            )
        if kind != "group" or not raw_id.isdigit():
            raise NotFound(self.display_name, "Relatel has no such queue")
        token = await self._own_token(identity, verify=True)
        employee_id = identity.user_id or await self._owner_of(identity.token or self._service_token)
        route_missing = False
        if token is not None and self._join_leave_works is not False:
            name = "employee_group.join" if logged_in else "employee_group.leave"
            try:
                await self._call(name, token=token, path_params={"id": raw_id})
            except (NotFound, VendorRejected) as exc:
                if exc.status_code not in (404, 405):
                    raise
                route_missing = True
            else:
                self._join_leave_works = True
                return
        await self._set_membership(raw_id, employee_id, member=logged_in)
        if route_missing and self._join_leave_works is None:
            self._join_leave_works = False
            log.info(
                "Relatel has no per-user group join/leave (the 2014 route is gone); "
                "group logins use the admin update of the group's members",
                extra={"vendor": self.name},
            )

    async def _set_membership(self, group_id: str, employee_id: str, *, member: bool) -> None:
        """Add ``employee_id`` to (or remove it from) group ``group_id``'s ``employee_ids``, as admin.

        Relatel documents only a whole-list update (seed 000 ~299-311, ``{"employee_group":
        {"employee_ids": [...]}}``) and no conditional write (no ETag, version or add/remove
        operation), so this is a read-modify-write, and it has a race: a membership change made
        elsewhere (Relatel's app, another phonebot replica) between phonebot's read and its write
        is overwritten by phonebot's list. phonebot bounds it: one process changes a group one
        login at a time (a per-group lock), it writes only when the membership must change, the
        window is one read-to-write round trip, and after each write it reads the group back and
        applies its change again (at most :data:`MEMBERSHIP_TRIES` writes) when a concurrent write
        undid it. It cannot notice that it undid someone else's change; the per-user join/leave
        route, where Relatel still has it, has no such race.
        """
        lock = self._group_locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            for writes in range(MEMBERSHIP_TRIES + 1):
                members = await self._group_members(group_id)
                if (employee_id in members) == member:
                    return
                if writes == MEMBERSHIP_TRIES:
                    break
                wanted = [m for m in members if m != employee_id] + ([employee_id] if member else [])
                body = {"employee_group": {"employee_ids": [int(m) if m.isdigit() else m for m in wanted]}}
                try:
                    await self._call(
                        "employee_group.update", token=self._service_token, path_params={"id": group_id}, json=body
                    )
                except VendorAuthError as exc:
                    raise VendorAuthError(
                        self.display_name,
                        f"Relatel refused to change the group's members ({exc.status_code}): "
                        "that needs an admin's service token",
                        status_code=exc.status_code,
                    ) from exc
        log.warning(
            "relatel group membership change undone by concurrent writes",
            extra={"vendor": self.name, "group": group_id, "tries": MEMBERSHIP_TRIES},
        )
        raise VendorRejected(
            self.display_name,
            "Relatel didn't keep the change because the group was being changed at the same moment; try again",
            status_code=409,
        )

    async def _group_members(self, group_id: str) -> tuple[str, ...]:
        """``employee_ids`` of group ``group_id``, read now from ``GET /employee_groups``."""
        body = await self._call("employee_groups", token=self._service_token)
        for raw in wire.unwrap_list(body, "employee_groups"):
            group = wire.parse_group(raw)
            if group.id == group_id:
                return group.employee_ids
        raise NotFound(self.display_name, "Relatel has no such employee group (it may have been deleted)")

    # -- directory ------------------------------------------------------------------------
    async def search_contacts(self, identity: VendorIdentity, query: str) -> list[Contact]:
        """Colleagues, then shared contacts, matching a name (all words) or a number.

        A bare 8-digit number is taken as Danish, as other Relatel clients do.
        """
        needle = query.strip()
        if not needle:
            return []
        token = self._service_token
        digits = _number_query(needle)
        if digits is not None:
            contacts_body, employees_body = await _all(
                self._call("contacts", token=token, params={"number": digits, "limit": PAGE_LIMIT}),
                self._call("employees", token=token),
            )
            rows = [wire.parse_contact(raw) for raw in wire.unwrap_list(contacts_body, "contacts")]
            colleagues = [
                e
                for e in map(wire.parse_employee, wire.unwrap_list(employees_body, "employees"))
                if e.number and wire.to_relatel_number(e.number) == digits
            ]
        else:
            words = needle.casefold().split()
            employees_body, rows = await _all(self._call("employees", token=token), self._all_contacts(token))
            colleagues = [
                e
                for e in map(wire.parse_employee, wire.unwrap_list(employees_body, "employees"))
                if _matches(e.name, words)
            ]
            rows = [row for row in rows if _matches(row.name, words)]
        found = [
            Contact(id=f"employee:{e.id}", name=e.name, number=wire.to_e164(e.number), email=e.email, colleague=True)
            for e in sorted(colleagues, key=lambda e: e.name.casefold())
        ]
        found += [
            Contact(id=f"contact:{row.id}", name=row.name, number=wire.to_e164(row.number), email=row.email)
            for row in sorted(rows, key=lambda row: row.name.casefold())
        ]
        return found

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        """Every employee. ``email`` is not in Relatel's documented schema, so it is often ``None``."""
        body = await self._call("employees", token=self._service_token)
        return [
            VendorUser(user_id=e.id, name=e.name, email=e.email, number=wire.to_e164(e.number))
            for e in map(wire.parse_employee, wire.unwrap_list(body, "employees"))
        ]

    # -- alerts ---------------------------------------------------------------------------
    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Check ``Relatel-Signature`` (HMAC-SHA256 of ``"<t>.<body>"``, 5-minute replay window).

        Raises:
            WebhookAuthError: no ``webhook_secret`` configured, or the signature is missing, wrong or stale.
        """
        if self.settings.webhook_secret is None:
            raise WebhookAuthError("no relatel webhook_secret configured")
        verify_relatel_signature(
            self.settings.webhook_secret.get_secret_value(),
            body,
            _header(headers, SIGNATURE_HEADER),
            clock=lambda: self._clock().timestamp(),
        )

    def webhook_delivery_id(self, headers: Mapping[str, str]) -> str | None:
        """``Relatel-Delivery-Id``: the same for every redelivery of one event."""
        return _header(headers, DELIVERY_HEADER) or None

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, path: str, resource: str | None = None
    ) -> list[AlertEvent]:
        """A signed webhook as events: a lost call from ``call.created``/``call.ended``, else nothing.

        Raises:
            VendorRejected: not JSON or not Relatel's envelope.
        """
        return alerts.parse_webhook(
            body, vendor=self.name, display_name=self.display_name, alert_endpoints=self._alert_endpoints
        )

    async def poll_alerts(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
        """Lost calls, callbacks and voicemails since ``cursor`` (see :mod:`adapters.relatel.alerts`)."""
        state = alerts.PollCursor.load(cursor)
        since = now if state is None else min(state.calls_since, now)
        (calls, backlog), (voicemails, page_full) = await asyncio.gather(
            self._calls_to_fold(since, None if state is None else state.backlog), self._voicemails()
        )
        if state is None:
            return PollResult(events=[], cursor=alerts.first_cursor(now, calls, voicemails).dump())
        call_events, state = alerts.fold_calls(
            state, calls, now=now, vendor=self.name, alert_endpoints=self._alert_endpoints, backlog=backlog
        )
        voicemail_events, state = alerts.fold_voicemails(
            state, voicemails, page_full=page_full, now=now, vendor=self.name, alert_endpoints=self._alert_endpoints
        )
        return PollResult(events=call_events + voicemail_events, cursor=state.dump())

    async def mark_voicemail_heard(self, identity: VendorIdentity, voicemail_id: str) -> None:
        """``PUT /voice_mails/{id}`` ``{"voice_mail": {"heard": true}}``, as ``identity`` when it has a token."""
        if not voicemail_id.strip().isdigit():
            raise NotFound(self.display_name, f"Relatel has no voicemail {voicemail_id!r}")
        await self._call(
            "voice_mail.update",
            token=identity.token or self._service_token,
            path_params={"id": voicemail_id.strip()},
            json={"voice_mail": {"heard": True}},
        )

    async def voicemail_audio(self, voicemail_id: str, *, owners: UserTokens | None = None) -> VoicemailAudio:
        """``GET /voice_mails/{id}/sound``, the MP3 behind phonebot's Listen link, with the mailbox owner's token.

        Only a number's own user may fetch its recordings (JENSEN,
        ``src/lib/inbound/call-import/relatel.ts``: "Only a number's own user may hear its
        recordings"), so the admin service token is not used for someone else's mailbox. The
        voicemail's ``endpoint`` (``GET /voice_mails/{id}``, seed 000 ~395-413) names the mailbox:
        an ``Employee#<id>`` mailbox is fetched with that employee's personal token from ``owners``
        (checked to be theirs), or with the service token when they own it; with neither,
        :class:`IdentityError` says so and no audio request is made. A reception's or group's
        mailbox belongs to no one person and is fetched with the (admin) service token; that
        Relatel allows it is inferred, and a refusal is reported, not retried with another token.
        """
        wanted = voicemail_id.strip()
        if not wanted.isdigit():
            raise NotFound(self.display_name, "Relatel has no such voicemail")
        body = await self._call("voice_mail", token=self._service_token, path_params={"id": wanted})
        mailbox = wire.text(wire.unwrap_one(body, "voice_mail"), "endpoint")
        token = await self._mailbox_token(mailbox, owners or UserTokens())
        try:
            content, media_type = await self._http.fetch("voice_mail.sound", token=token, path_params={"id": wanted})
        except VendorAuthError as exc:
            raise VendorAuthError(
                self.display_name,
                f"Relatel refused to hand phonebot this recording ({exc.status_code})",
                status_code=exc.status_code,
            ) from exc
        return VoicemailAudio(content=content, media_type=media_type.split(";")[0].strip() or "audio/mpeg")

    async def _mailbox_token(self, mailbox: str | None, owners: UserTokens) -> str:
        """The token that may fetch recordings of ``mailbox`` (``Employee#2``, ``Reception#10``)."""
        kind, _, owner = (mailbox or "").partition("#")
        if kind != "Employee" or not owner:
            return self._service_token
        named = owners.by_user.get(owner)
        for secret in ([named] if named is not None else []) + list(owners.unnamed):
            token = secret.get_secret_value()
            try:
                holder = await self._owner_of(token)
            except VendorAuthError:
                log.info("a personal Relatel token was refused; skipped for a recording", extra={"vendor": self.name})
                continue
            if holder == owner:
                return token
            if secret is named:
                log.warning(
                    "the users: entry for Relatel employee %s holds another employee's token",
                    owner,
                    extra={"vendor": self.name},
                )
        if (await self.resolve_service_identity()).user_id == owner:
            return self._service_token
        raise IdentityError(NO_OWNER_TOKEN)

    # -- diagnostics ----------------------------------------------------------------------
    async def probe(self) -> list[ProbeResult]:
        """Resolve the service token's owner, then run the standard read-only probes."""
        try:
            owner = (await self.resolve_service_identity()).display_name or "the token owner"
        except VendorError:
            owner = "the token owner"  # every probed row below reports the failure itself
        dial_note = (
            f"not probed: it rings a real phone. Relatel dials as the token owner ({owner}); "
            "everyone else needs their own Relatel token"
        )
        alert_rows = {
            Capability.ALERT_POLLING: await self._probe_polling(),
            Capability.ALERT_WEBHOOKS: ProbeResult(
                Capability.ALERT_WEBHOOKS,
                None,
                "signed webhooks accepted (webhook_secret set)"
                if self.settings.webhook_secret is not None
                else "no webhook_secret: Relatel webhooks are refused; polling still works",
            ),
        }
        rows: list[ProbeResult] = []
        for row in await super().probe():
            if row.capability is Capability.DIAL:
                row = ProbeResult(row.capability, None, dial_note)
            rows.append(alert_rows.get(row.capability, row))
        return rows

    async def _probe_polling(self) -> ProbeResult:
        """Read the call log of the last poll overlap and the voicemails, as a first poll would; changes nothing."""
        try:
            calls, _ = await asyncio.gather(
                self._ended_calls(self._clock() - alerts.OVERLAP, max_pages=self.max_call_pages), self._voicemails()
            )
        except VendorError as exc:
            return ProbeResult(Capability.ALERT_POLLING, False, exc.message, exc)
        if calls.stopped_at is not None:
            return ProbeResult(
                Capability.ALERT_POLLING,
                True,
                f"call log and voicemails readable, but more than {self.max_call_pages * PAGE_LIMIT} calls ended "
                "in the last two minutes: each poll round reads at most that many, the rest in the next rounds",
            )
        return ProbeResult(Capability.ALERT_POLLING, True, "call log and voicemails readable")

    # -- private --------------------------------------------------------------------------
    async def _call(
        self,
        endpoint: str,
        *,
        token: str,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        return await self._http.call(endpoint, token=token, path_params=path_params, params=params, json=json)

    async def account_of(self, token: str) -> VendorUser:
        """Who ``token`` acts as (``GET /employee``): the account a person linked through OAuth."""
        me = await self._me(token)
        return VendorUser(user_id=me.id, name=me.name, email=me.email)

    async def _me(self, token: str) -> wire.Employee:
        """``GET /employee`` with ``token``; remembers who owns the token."""
        me = wire.parse_employee(wire.unwrap_one(await self._call("employee.me", token=token), "employee"))
        self._owners[_fingerprint(token)] = me.id
        if token == self._service_token and self._service is None:
            self._service = VendorIdentity(vendor=self.name, user_id=me.id, display_name=me.name, email=me.email)
        return me

    async def _owner_of(self, token: str) -> str:
        owner = self._owners.get(_fingerprint(token))
        if owner is None:
            owner = (await self._me(token)).id
        return owner

    async def _own_token(self, identity: VendorIdentity, *, verify: bool) -> str | None:
        """A token that acts as ``identity`` on the "me" endpoints, or ``None`` if there is none.

        A personal token must belong to ``identity`` (checked once per token). The service token
        qualifies when ``identity`` is its owner; ``verify`` looks the owner up if not yet known
        (dialling must know; presence can fall back to the admin endpoints instead).
        """
        if identity.token:
            if identity.user_id and await self._owner_of(identity.token) != identity.user_id:
                raise IdentityError(WRONG_OWN_TOKEN)
            return identity.token
        if not identity.user_id:
            return self._service_token
        if self._service is None and verify:
            await self.resolve_service_identity()
        if self._service is not None and self._service.user_id == identity.user_id:
            return self._service_token
        return None

    def _presence(self, employee: wire.Employee) -> Presence:
        dnd = employee.dnd_at(self._clock())
        reachable = employee.live_presence in REACHABLE_STATES
        return Presence(
            available=not dnd and reachable,
            dnd=dnd,
            until=employee.dnd_timeout_at if dnd else None,
            note=None if reachable else employee.live_presence,
        )

    async def _today(self, reception: wire.Reception, now: datetime) -> tuple[int | None, int | None]:
        """Answered and missed since local midnight; ``(None, None)`` when the plan has no statistics."""
        midnight = now.astimezone(self._zone).replace(hour=0, minute=0, second=0, microsecond=0)
        params = {
            "answer_target": self.settings.answer_target_seconds,
            "from_time": midnight.isoformat(),
            "to_time": wire.format_time(now),
        }
        try:
            body = await self._call(
                "reception.statistics", token=self._service_token, path_params={"id": reception.id}, params=params
            )
        except (VendorAuthError, NotFound, VendorRejected) as exc:
            log.info("reception statistics unavailable", extra={"vendor": self.name, "error": str(exc)})
            return None, None
        return wire.parse_statistics(body)

    async def _all_contacts(self, token: str) -> list[wire.ContactRow]:
        """Page ``GET /contacts`` forward with ``id_gt_or_eq``, at most :data:`MAX_CONTACT_PAGES` pages."""
        rows: dict[str, wire.ContactRow] = {}
        cursor: int | None = None
        for _ in range(MAX_CONTACT_PAGES):
            params: dict[str, Any] = {"limit": PAGE_LIMIT}
            if cursor is not None:
                params["id_gt_or_eq"] = cursor
            body = await self._call("contacts", token=token, params=params)
            page = [wire.parse_contact(raw) for raw in wire.unwrap_list(body, "contacts")]
            rows.update((row.id, row) for row in page)
            numeric = [int(row.id) for row in page if row.id.isdigit()]
            if len(page) < PAGE_LIMIT or not numeric or (cursor is not None and max(numeric) < cursor):
                break
            cursor = max(numeric) + 1
        else:
            log.info("contact search stopped paging", extra={"vendor": self.name, "contacts": len(rows)})
        return list(rows.values())

    def poll_backlog(self, cursor: Mapping[str, Any] | None) -> str | None:
        """What a saved poll cursor still has to read, when a round hit :attr:`max_call_pages`."""
        state = alerts.PollCursor.load(cursor)
        if state is None or state.backlog is None:
            return None
        return _backlog_words(state.backlog, self.max_call_pages)

    async def _calls_to_fold(
        self, since: datetime, backlog: alerts.CallBacklog | None
    ) -> tuple[list[wire.CallRow], alerts.CallBacklog | None]:
        """Every call that ended since ``since`` (less the overlap), then as much of ``backlog`` as pages remain.

        Returns the calls (each once) and what is still unread when the page limit was hit.
        """
        budget = self.max_call_pages
        top = await self._ended_calls(since - alerts.OVERLAP, max_pages=budget)
        rows = {row.call_uuid: row for row in top.rows}
        rest = backlog
        if backlog is not None and top.pages < budget:
            older = await self._ended_calls(
                backlog.ended_since, started_before=backlog.started_before, max_pages=budget - top.pages
            )
            rows.update((row.call_uuid, row) for row in older.rows)
            rest = None if older.stopped_at is None else backlog.model_copy(update={"started_before": older.stopped_at})
        fresh = None
        if top.stopped_at is not None:
            fresh = alerts.CallBacklog(ended_since=since - alerts.OVERLAP, started_before=top.stopped_at)
        left = alerts.merge_backlog(rest, fresh)
        if left is not None:
            log.warning(
                "relatel lost-call poll hit its page limit; %s",
                _backlog_words(left, budget),
                extra={"vendor": self.name, "calls": len(rows)},
            )
        elif backlog is not None:
            log.info("relatel lost-call poll caught up with its backlog", extra={"vendor": self.name})
        return list(rows.values()), left

    async def _ended_calls(
        self, since: datetime, *, started_before: datetime | None = None, max_pages: int
    ) -> _CallPages:
        """Calls that ended at or after ``since`` (and started at or before ``started_before``), newest first.

        Paged back as Relatel documents it: ``started_at_lt_or_eq`` = the oldest start on the page
        (rounded up to Relatel's whole seconds, so the boundary call comes back and is deduped),
        until a page is short. Stops early at ``max_pages`` or when a full page adds nothing new
        (more than a page of calls starting in one second); ``stopped_at`` then says where.
        """
        found: dict[str, wire.CallRow] = {}
        params: dict[str, Any] = {"ended_at_gt_or_eq": wire.format_time(since), "limit": PAGE_LIMIT}
        if started_before is not None:
            params["started_at_lt_or_eq"] = wire.format_time_up(started_before)
        pages = 0
        while True:
            body = await self._call("calls", token=self._service_token, params=params)
            pages += 1
            page = _rows(wire.CallRow, wire.unwrap_list(body, "calls"))
            added = [row for row in page if row.call_uuid not in found]
            found.update((row.call_uuid, row) for row in page)
            if len(page) < PAGE_LIMIT:
                return _CallPages(list(found.values()), pages, None)
            starts = [start for row in page if (start := row.started_at or row.began_at) is not None]
            oldest = min(starts) if starts else started_before or since
            if not added or not starts or pages >= max_pages:
                return _CallPages(list(found.values()), pages, oldest)
            params = {**params, "started_at_lt_or_eq": wire.format_time_up(oldest)}

    async def _voicemails(self) -> tuple[list[wire.VoicemailRow], bool]:
        """The newest :data:`VOICEMAIL_LIMIT` voicemails, and whether the page was full."""
        body = await self._call("voice_mails", token=self._service_token, params={"limit": VOICEMAIL_LIMIT})
        raw = wire.unwrap_list(body, "voice_mails")
        return _rows(wire.VoicemailRow, raw), len(raw) >= VOICEMAIL_LIMIT

    def _admin_needed(self, exc: VendorAuthError, action: str) -> VendorAuthError:
        return VendorAuthError(
            self.display_name,
            f"Relatel refused to {action} ({exc.status_code}): that needs an admin's service token, "
            "or the user's own Relatel token",
            status_code=exc.status_code,
        )


@dataclass(frozen=True)
class _CallPages:
    """What one paged read of ``GET /calls`` returned."""

    rows: list[wire.CallRow]
    pages: int
    stopped_at: datetime | None  # the oldest start read when paging stopped short; None = read to the end


def _backlog_words(backlog: alerts.CallBacklog, max_pages: int) -> str:
    return (
        f"calls that ended since {wire.format_time(backlog.ended_since)} and started at or before "
        f"{wire.format_time(backlog.started_before)} are still to be read (more than {max_pages * PAGE_LIMIT} "
        "calls in one round); later rounds read them first, nothing is skipped"
    )


RowT = TypeVar("RowT", wire.CallRow, wire.VoicemailRow)


def _rows(model: type[RowT], raw: list[wire.JsonObject]) -> list[RowT]:
    """Each row as ``model``; a row Relatel sent in an odd shape is skipped (and logged), not fatal."""
    rows: list[RowT] = readable_rows(model, raw, f"Relatel {model.__name__}")
    return rows


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (the receiver lower-cases them; tests may not)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _longest_wait(calls: list[wire.Call], now: datetime) -> int | None:
    starts = [call.started_at for call in calls if call.started_at is not None]
    return max(0, int((now - min(starts)).total_seconds())) if starts else None


def _number_query(query: str) -> str | None:
    """Relatel digits when ``query`` looks like a phone number, else ``None``."""
    digits = wire.to_relatel_number(query)
    if digits is None:
        return None
    bare = query.strip()
    if len(digits) == 8 and not bare.startswith(("+", "00")):
        return DANISH_PREFIX + digits
    return digits


def _matches(name: str, words: list[str]) -> bool:
    folded = name.casefold()
    return all(word in folded for word in words)
