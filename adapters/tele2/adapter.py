"""Tele2 "Mobili Stotele" / LMT "Zvanu pārvaldnieks" REST API v2 behind phonebot's neutral contract.

How the contract maps onto the API (details in ``shared/vendors/mobili-stotele.md``):

* **Key.** One company-wide API key, sent as ``Authorization: Bearer <key>`` (the Swagger's
  ``apiKey`` scheme; the panel shows keys at ``/integration``). Each key has an IP ACL and a
  per-method allow-list, so a 403 names the method to allow. The key belongs to no person:
  :meth:`Tele2Adapter.service_identity` has ``user_id=""``.
* **Capabilities.** Click-to-dial (``POST /dial``) and the employee list (``GET
  /trigger/contacts``), which serves both the colleague directory and contact search (names and
  numbers matched here: the API has no search and no shared address book). The API has no
  presence, no queue status and no agent login; employees carry no email, so users are mapped to
  their ``contactID`` explicitly (``vendor_user``).
* **Dial.** ``{"destination": "+370…", "contactID": <the identity's employee id>}``: the employee's
  own device rings first. The Swagger and the seed say only "Destination number." (a string), so
  the format is the ``dial_format`` setting: ``e164`` (``+37061234567``, the default: unambiguous
  for every country, and what phonebot sent so far), ``e164_no_plus`` (``37061234567``) or
  ``national`` (``61234567``: how real callbacks spell numbers of the home country; numbers of
  other countries stay E.164). Never retried.
* **Lists.** A list that matches nothing answers ``404 No items found``; that is an empty list here.
* **Webhooks.** :meth:`Tele2Adapter.ensure_webhooks`, :meth:`Tele2Adapter.prune_webhooks`,
  :meth:`Tele2Adapter.remove_webhooks` and :meth:`Tele2Adapter.parse_webhook`; the subscription
  rules and the event mapping are in :mod:`adapters.tele2.webhooks`. The API publishes no way to
  list webhooks, so phonebot records the id each ``POST /webhooks/{Event}`` answer gives (in its
  store, :meth:`VendorAdapter.use_state`) and reuses and deletes by those ids. ``GET /webhooks``
  (inferred; see ``paths.py``) is still asked, and used when it answers; its 404 means "no such
  route", never "no webhooks".
* **Lost-call backfill.** :meth:`Tele2Adapter.poll_alerts` reads ``GET /lost_calls`` each poll
  round and queues what the webhooks did not deliver (:mod:`adapters.tele2.lost_calls`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, HttpUrl, SecretStr, ValidationError, field_validator

from adapters.base import AdapterConfig, AdapterState, CountryCode, ProbeResult, TimeZoneName, VendorAdapter
from adapters.errors import (
    IdentityError,
    NotFound,
    VendorAuthError,
    VendorError,
    VendorRejected,
    VendorUnavailable,
)
from adapters.events import AlertEvent
from adapters.http import Endpoint, RetryPolicy, VendorHttpClient
from adapters.models import Capability, Contact, DialResult, PollResult, VendorIdentity, VendorUser
from adapters.tele2 import lost_calls, wire
from adapters.tele2.paths import ENDPOINTS
from adapters.tele2.webhooks import (
    VENDOR_WEBHOOK_LIMIT,
    Webhook,
    WebhookLimitReached,
    WebhookSyncResult,
    dump_records,
    endpoint_for,
    is_ours,
    is_wanted,
    load_records,
    parse_webhook,
    plan_prune,
    plan_sync,
    wanted_events,
    webhook_events,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://mobili-stotele.tele2.lt/api/v2/"
#: LMT Latvia's host for the same API (set it as ``base_url`` with ``default_country: LV``).
LMT_BASE_URL = "https://zvanuparvaldnieks.lmt.lv/api/v2/"
PAGE_LIMIT = 100
MAX_PAGES = 20  # 2,000 employees; the budget is 100 calls a minute per key

NEEDS_CONTACT_ID = (
    "Tele2 Mobili Stotele starts a call from an employee's own device, so phonebot needs your "
    "Mobili Stotele employee id (contactID). Ask a phonebot admin to set `vendor_user` in your "
    "`users:` entry (see the README)."
)


#: How ``POST /dial`` spells the destination: ``e164`` ``+37061234567``, ``e164_no_plus`` ``37061234567``,
#: ``national`` ``61234567`` (numbers of ``default_country`` only; others stay E.164).
DialFormat = Literal["e164", "e164_no_plus", "national"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Tele2Config(AdapterConfig):
    """Settings for the ``tele2`` vendor section.

    Args:
        base_url: API root; Tele2's host by default, :data:`LMT_BASE_URL` for LMT.
        api_key: the key from the panel (``/integration``, API → API KEYS); a pasted
            ``Bearer `` prefix is dropped. Allow it ``Dial``, ``GetContacts`` and the webhook methods.
        default_country: ISO region for national numbers (``LT``; ``LV`` for LMT).
        timezone: IANA zone of vendor times that carry no offset.
        webhook_limit: the most webhooks phonebot lets the account hold (Tele2's limit is 20).
        dial_format: how ``POST /dial`` spells the destination (see :data:`DialFormat`).
        poll_lost_calls: read ``GET /lost_calls`` every poll round (the backfill; needs ``GetLostCalls``).
        lost_calls_backfill_hours: on the very first round, alert lost callers still open whose last
            attempt is at most this old (0: remember them only).
    """

    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    api_key: SecretStr
    default_country: CountryCode = "LT"
    timezone: TimeZoneName = "Europe/Vilnius"
    webhook_limit: int = Field(default=VENDOR_WEBHOOK_LIMIT, ge=1, le=VENDOR_WEBHOOK_LIMIT)
    dial_format: DialFormat = "e164"
    poll_lost_calls: bool = True
    lost_calls_backfill_hours: float = Field(default=24, ge=0, le=7 * 24)

    @field_validator("api_key")
    @classmethod
    def _bare_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        scheme, _, rest = key.partition(" ")
        if scheme.lower() == "bearer":
            key = rest.strip()
        if not key:
            raise ValueError("the API key is empty")
        return SecretStr(key)


class _Tele2Http(VendorHttpClient):
    """The shared client, with Tele2's two kinds of 403 told apart."""

    async def answer(
        self, name: str, *, token: str, path_params: Mapping[str, str] | None = None, json: Any = None
    ) -> httpx.Response:
        """Like :meth:`call`, but the whole successful response (a subscribe's ``Location`` header matters)."""
        return await self._send(
            name,
            token=token,
            path_params=path_params,
            params=None,
            json=json,
            auth_header="Authorization",
            auth_scheme="Bearer",
        )

    def _error_for(self, response: httpx.Response, name: str) -> VendorError:
        if response.status_code != 403:
            return super()._error_for(response, name)
        detail = _message(response)
        if name == "webhook.subscribe" and "limit" in detail.lower():
            return WebhookLimitReached(self.vendor, f"{self.vendor} refused a new webhook: {detail}", status_code=403)
        endpoint: Endpoint = self.endpoints[name]
        return VendorAuthError(
            self.vendor,
            f"{self.vendor} refused phonebot's API key (403) for {endpoint.method} {endpoint.path}: check that the "
            "key exists, that its IP ACL admits phonebot and that the key is allowed this method "
            "(panel: API \u2192 API KEYS)",
            status_code=403,
        )


class Tele2Adapter(VendorAdapter):
    """Tele2 Mobili Stotele REST API v2 (see the module docstring for the mapping).

    Args:
        config: a :class:`Tele2Config`.
        transport: optional httpx transport (tests).
        retry: retry policy for idempotent calls (tests pass tiny delays).
        clock: returns the current aware UTC time (webhook receipt time; tests pin it).
    """

    name = "tele2"
    display_name = "Tele2 Mobili Stotele"
    config_model = Tele2Config
    endpoints = ENDPOINTS
    capabilities = frozenset(
        {
            Capability.DIAL,
            Capability.DIRECTORY,
            Capability.CONTACT_SEARCH,
            Capability.ALERT_WEBHOOKS,
            Capability.ALERT_POLLING,
        }
    )

    def __init__(
        self,
        config: AdapterConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(config, Tele2Config):
            raise TypeError(f"Tele2Adapter needs a Tele2Config, not {type(config).__name__}")
        super().__init__(config, transport=transport)
        self.settings = config
        self._clock = clock or _utcnow
        self._zone = ZoneInfo(config.timezone)
        timeout = config.timeout_seconds
        self._http = _Tele2Http(
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

    def supports(self, capability: Capability) -> bool:
        """As declared, except that ``poll_lost_calls: false`` turns the lost-call poll off."""
        if capability is Capability.ALERT_POLLING and not self.settings.poll_lost_calls:
            return False
        return super().supports(capability)

    def service_identity(self) -> VendorIdentity:
        """The company-wide API key; it belongs to no employee, so ``user_id`` is empty."""
        return VendorIdentity(vendor=self.name, user_id="", display_name="Tele2 API key")

    # -- calls ----------------------------------------------------------------------------
    async def dial(self, identity: VendorIdentity, number: str) -> DialResult:
        """``POST /dial`` from employee ``identity.user_id`` (their device rings first). Never retried.

        Raises:
            IdentityError: ``identity`` is not an employee id (before any request).
            VendorRejected: ``number`` is not a phone number (before any request).
        """
        contact_id = identity.user_id.strip()
        if not contact_id.isdigit():
            raise IdentityError(NEEDS_CONTACT_ID)
        destination = wire.to_e164(number, self.settings.default_country)
        if destination is None:
            raise VendorRejected(self.display_name, f"\u201c{number}\u201d isn't a number Tele2 can dial")
        sent = wire.dial_number(destination, self.settings.dial_format, self.settings.default_country)
        try:
            await self._call("dial", json={"destination": sent, "contactID": int(contact_id)})
        except VendorRejected as exc:
            if exc.status_code != 422:
                raise
            raise VendorRejected(
                self.display_name,
                f"{self.display_name} refused to dial {destination} (422). If it refuses every number, a phonebot "
                f"admin can try another `dial_format` for Tele2 (now {self.settings.dial_format}; see the README).",
                status_code=422,
            ) from exc
        return DialResult(target=destination)

    # -- directory ------------------------------------------------------------------------
    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        """Every employee not archived. The API has no emails, so ``email`` is always ``None``."""
        employees = sorted(await self._employees(), key=lambda e: (e.full_name.casefold(), e.contactID))
        return [
            VendorUser(user_id=str(e.contactID), name=e.full_name, number=self._number(e.number)) for e in employees
        ]

    async def search_contacts(self, identity: VendorIdentity, query: str) -> list[Contact]:
        """Employees whose name has every word of ``query``, or whose number is ``query``.

        The API has no company address book, so every match is a colleague.
        """
        needle = query.strip()
        if not needle:
            return []
        employees = await self._employees()
        wanted = self._number(needle) if any(ch.isdigit() for ch in needle) else None
        if wanted is not None:
            found = [e for e in employees if self._number(e.number) == wanted]
        else:
            words = needle.casefold().split()
            found = [e for e in employees if all(word in e.full_name.casefold() for word in words)]
        return [
            Contact(id=f"employee:{e.contactID}", name=e.full_name, number=self._number(e.number), colleague=True)
            for e in sorted(found, key=lambda e: e.full_name.casefold())
        ]

    # -- lost-call backfill ---------------------------------------------------------------
    async def poll_alerts(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
        """Lost callers ``GET /lost_calls`` lists that phonebot has not queued yet, and those now reached.

        See :mod:`adapters.tele2.lost_calls`: the events carry the webhooks' own idempotency keys, so
        a caller both pushed and listed is posted once.
        """
        listed = await lost_calls.read_all(self._lost_calls_page)
        events, new_cursor = lost_calls.reconcile(
            listed,
            cursor,
            vendor=self.name,
            region=self.settings.default_country,
            zone=self._zone,
            now=now,
            backfill=timedelta(hours=self.settings.lost_calls_backfill_hours),
        )
        if not listed.complete:
            log.warning(
                "tele2: more than %d open lost callers; the ones past that are read again next round",
                len(listed.rows),
            )
        return PollResult(events=events, cursor=new_cursor)

    async def probe(self) -> list[ProbeResult]:
        """The standard read-only probes, plus one read of ``GET /lost_calls`` for the polling row."""
        rows: list[ProbeResult] = []
        for row in await super().probe():
            if row.capability is Capability.ALERT_POLLING:
                row = await self._probe_lost_calls()
            rows.append(row)
        return rows

    async def _probe_lost_calls(self) -> ProbeResult:
        if not self.settings.poll_lost_calls:
            return ProbeResult(Capability.ALERT_POLLING, None, "poll_lost_calls is off: no lost-call backfill")
        try:
            found = await self._lost_calls_page(1, 0)
        except VendorError as exc:
            return ProbeResult(Capability.ALERT_POLLING, False, f"lost-call backfill: {exc.message}", exc)
        return ProbeResult(
            Capability.ALERT_POLLING, True, f"GET /lost_calls readable ({'some' if found else 'no'} open lost callers)"
        )

    async def _lost_calls_page(self, limit: int, offset: int) -> list[wire.LostCallerAddedData]:
        try:
            body = await self._call("lost_calls", params={"limit": limit, "offset": offset})
        except NotFound:
            return []  # "No items found": nobody is waiting for a call back (or past the last page)
        items = self._envelope(body).data
        if items is None:
            return []
        if not isinstance(items, list):
            raise _unexpected(self.display_name, "the lost-call list is not a list")
        rows: list[wire.LostCallerAddedData] = []
        for item in items:
            try:
                rows.append(wire.LostCallerAddedData.model_validate(item))
            except ValidationError:
                log.warning("tele2: a lost call without callerid or destination was skipped")
        return rows

    # -- webhooks -------------------------------------------------------------------------
    async def list_webhooks(self) -> list[Webhook] | None:
        """Every webhook the account holds (phonebot's and anyone else's), or ``None`` if Tele2 won't say.

        ``GET /webhooks`` is in neither the Swagger nor the seed (inferred): a 404 or 405 from it
        means the route does not exist, not that there are no webhooks, so it is ``None`` ("unknown"),
        never ``[]``; callers then rely on the ids phonebot recorded (:meth:`registered_webhooks`).
        """
        try:
            body = await self._call("webhooks")
        except NotFound:
            return None
        except VendorRejected as exc:
            if exc.status_code != 405:
                raise
            return None
        items = self._envelope(body).data
        if items is None:
            return []
        if not isinstance(items, list):
            raise _unexpected(self.display_name, "the webhook list is not a list")
        try:
            rows = [wire.WebhookSubscription.model_validate(item) for item in items]
        except ValidationError as exc:
            raise _unexpected(self.display_name, "a webhook without id, event or endpoint") from exc
        return [Webhook(id=r.id, event=wire.canonical_event(r.event) or r.event, endpoint=r.endpoint) for r in rows]

    async def registered_webhooks(self) -> list[Webhook]:
        """The subscriptions phonebot made with this API key, by the ids ``POST /webhooks/{Event}`` gave.

        Kept in phonebot's store (:meth:`use_state`) under a key of the API host and key, so two
        deployments sharing one Redis never read each other's; an unreadable record is logged and
        treated as none.
        """
        raw = await self._state().get(self._records_key())
        try:
            return load_records(raw)
        except ValueError:
            log.warning("tele2: the stored webhook record is unreadable; phonebot starts a new one")
            return []

    async def ensure_webhooks(self, target_url: str, events: Sequence[str]) -> WebhookSyncResult:
        """Make ``target_url`` receive ``events``: reuse, create what is missing, drop duplicates.

        ``target_url`` may contain ``{event}`` (one callback URL per event). What exists is what
        ``GET /webhooks`` lists when Tele2 serves it, else phonebot's own record of the ids it was
        given (Tele2 publishes no way to list webhooks). Every webhook counted counts against
        :attr:`Tele2Config.webhook_limit`; past it nothing is changed. If Tele2 itself reports its
        limit while subscribing, the subscriptions made by this call are deleted again, so no
        partial set is left behind. Each new id is recorded as soon as Tele2 gives it.

        Raises:
            VendorRejected: an unknown event, or the limit (the message gives the counts).
        """
        wanted = wanted_events(events, vendor=self.display_name)  # refuse a typo before any request
        records = await self.registered_webhooks()
        listed = await self.list_webhooks()
        if listed is None:
            existing = records
        else:
            ids = {webhook.id for webhook in listed}
            # A recorded subscription Tele2 no longer lists was deleted (in the panel, say); one it lists
            # that delivers to target_url but was never recorded (made before records existed) is adopted.
            records = [w for w in records if w.id is None or w.id in ids]
            known = {w.id for w in records}
            records += [w for w in listed if w.id not in known and is_wanted(w, target_url=target_url, events=wanted)]
            existing = listed
        plan = plan_sync(
            existing,
            target_url=target_url,
            events=events,
            limit=self.settings.webhook_limit,
            vendor=self.display_name,
        )
        removed = [webhook for webhook in plan.remove if await self._delete_webhook(webhook)]
        records = [w for w in records if w not in removed]
        await self._save_records(records)
        created: list[Webhook] = []
        try:
            for event in plan.create:
                webhook = await self._subscribe(event, endpoint_for(target_url, event))
                created.append(webhook)
                await self._save_records([*records, *created])
            if listed is not None and any(webhook.id is None for webhook in created):
                created = await self._with_ids(created)
                await self._save_records([*records, *created])
        except VendorError as exc:
            left = await self._roll_back(created)
            await self._save_records([*records, *left])
            if isinstance(exc, WebhookLimitReached):
                undone = (
                    f"{len(left)} webhooks phonebot made just now could not be deleted again"
                    if left
                    else "The webhooks phonebot made just now were deleted again"
                )
                counted = (
                    f"phonebot counted {plan.existing} webhooks"
                    if listed is not None
                    else f"Tele2 does not list webhooks, and phonebot has {plan.existing} of its own on record"
                )
                raise VendorRejected(
                    self.display_name,
                    f"{exc.message}. {counted} and needed {len(plan.create)} more, but the limit is "
                    f"{VENDOR_WEBHOOK_LIMIT} webhooks per account and Tele2 holds some that phonebot did not "
                    f"count. {undone}. Remove phonebot's stale subscriptions with `phonebot webhooks prune`, and "
                    "delete webhooks you no longer use in the Mobili Stotele panel (API \u2192 WEB HOOKS).",
                    status_code=403,
                ) from exc
            raise
        current = [*records, *created]
        stale = plan_prune(current, target_url=target_url, events=wanted)
        log.info(
            "tele2 webhooks in sync: %d created, %d reused, %d held by the account%s",
            len(created),
            len(plan.reuse),
            plan.total,
            "" if listed is not None else " (as far as phonebot's own record goes)",
        )
        return WebhookSyncResult(
            created=tuple(created),
            reused=plan.reuse,
            removed=tuple(removed),
            total=plan.total,
            limit=self.settings.webhook_limit,
            stale=stale.remove + stale.unremovable,
            listed=listed is not None,
        )

    async def subscribe_webhooks(self, target_url: str, *, include_call_events: bool = False) -> str:
        """Subscribe lost-caller and voicemail events (and call events on request); see ensure_webhooks."""
        result = await self.ensure_webhooks(target_url, webhook_events(include_call_events=include_call_events))
        held = (
            f"the account now holds {result.total} of at most {result.limit} webhooks"
            if result.listed
            else f"phonebot holds {result.total} of the account's at most {result.limit} webhooks"
        )
        summary = (
            f"{len(result.created)} created, {len(result.reused)} reused, "
            f"{len(result.removed)} duplicate(s) removed; {held}"
        )
        if result.stale:
            summary += f"; {len(result.stale)} stale subscription(s) of phonebot's remain (phonebot webhooks prune)"
        if not self._state().durable:
            summary += "; the ids are kept in the embedded store and forgotten on restart (set REDIS_URL)"
        return summary

    async def prune_webhooks(
        self, target_url: str, *, include_call_events: bool = False, everything: bool = False
    ) -> str:
        """Delete phonebot's own stale subscriptions by their recorded ids (all of them with ``everything``).

        Stale: recorded with another callback URL (a new public URL or webhook secret), for an
        event phonebot no longer wants, or a duplicate. Only ids phonebot recorded are touched,
        never anyone else's webhooks. A subscription that is already gone counts as removed.
        """
        events = webhook_events(include_call_events=include_call_events)
        records = await self.registered_webhooks()
        plan = plan_prune(records, target_url=target_url, events=events, everything=everything)
        removed: list[Webhook] = []
        failed: list[Webhook] = []
        for webhook in plan.remove:
            try:
                deleted = await self._delete_webhook(webhook)
            except VendorError as exc:
                log.warning("tele2: could not delete a stale webhook: %s", exc.message)
                deleted = False
            (removed if deleted else failed).append(webhook)
        await self._save_records([*plan.keep, *failed, *plan.unremovable])
        summary = f"{len(removed)} stale subscription(s) removed, {len(plan.keep)} current kept"
        if failed:
            summary += f"; {len(failed)} could not be deleted now (run prune again)"
        if plan.unremovable:
            summary += (
                f"; {len(plan.unremovable)} without an id (Tele2 never gave one): delete them in the Mobili "
                "Stotele panel (API \u2192 WEB HOOKS)"
            )
        return summary

    async def remove_webhooks(self, target_url: str) -> list[Webhook]:
        """Delete every subscription that delivers to ``target_url``; others' webhooks are left alone."""
        records = await self.registered_webhooks()
        listed = await self.list_webhooks() or []
        ours = {w.id: w for w in [*records, *listed] if is_ours(w, target_url)}
        removed = [webhook for webhook in ours.values() if await self._delete_webhook(webhook)]
        await self._save_records([w for w in records if w not in removed])
        return removed

    @classmethod
    def manual_webhook_events(cls, *, include_call_events: bool = False) -> tuple[str, ...]:
        """The events ``sync`` subscribes; each gets its own callback URL ending in the event name."""
        return webhook_events(include_call_events=include_call_events)

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, path: str, resource: str | None = None
    ) -> list[AlertEvent]:
        """A Tele2 callback as neutral events (mapping in :mod:`adapters.tele2.webhooks`).

        Tele2 signs nothing, so ``headers`` carry no proof and are not read: the receiver must
        have checked the secret token in the callback URL first. ``event`` is the event name
        from the callback URL (``path``) when ``ensure_webhooks`` was given a ``{event}`` URL.

        Raises:
            VendorRejected: the body is not a readable Tele2 callback (answer 4xx).
        """
        return parse_webhook(
            body,
            vendor=self.name,
            display_name=self.display_name,
            region=self.settings.default_country,
            zone=self._zone,
            received_at=self._clock(),
            event=path.strip("/") or None,
        )

    # -- private --------------------------------------------------------------------------
    async def _call(
        self,
        endpoint: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        return await self._http.call(
            endpoint,
            token=self.settings.api_key.get_secret_value(),
            path_params=path_params,
            params=params,
            json=json,
        )

    def _envelope(self, body: Any) -> wire.Envelope:
        if not isinstance(body, dict):
            raise _unexpected(self.display_name, "not a JSON object")
        try:
            return wire.Envelope.model_validate(body)
        except ValidationError as exc:
            raise _unexpected(self.display_name, "not the usual envelope") from exc

    def _number(self, raw: str | None) -> str | None:
        return wire.to_e164(raw, self.settings.default_country)

    async def _employees(self) -> list[wire.Employee]:
        """All employees not archived, paged with ``offset`` (``initial_contact_id=0``: from the start)."""
        found: dict[int, wire.Employee] = {}
        for page in range(MAX_PAGES):
            params = {"initial_contact_id": 0, "limit": PAGE_LIMIT, "offset": page * PAGE_LIMIT}
            try:
                body = await self._call("contacts", params=params)
            except NotFound:
                break  # "No items found": past the last page
            items = self._envelope(body).data
            if not isinstance(items, list):
                raise _unexpected(self.display_name, "the employee list is not a list")
            try:
                rows = [wire.Employee.model_validate(item) for item in items]
            except ValidationError as exc:
                raise _unexpected(self.display_name, "an employee without contactID") from exc
            found.update((row.contactID, row) for row in rows)
            if len(rows) < PAGE_LIMIT:
                break
        else:
            log.info("employee list stopped paging", extra={"vendor": self.name, "employees": len(found)})
        return [e for e in found.values() if not e.archived]

    async def _subscribe(self, event: str, endpoint: str) -> Webhook:
        """``POST /webhooks/{Event}``; the new id from ``data`` (a string per the Swagger), else from ``Location``.

        The Power Platform webhook-trigger contract ([S6] in the notes) has the subscribe answer
        carry a ``Location`` of the URL to DELETE; which of the two Tele2 fills is undocumented.
        """
        response = await self._http.answer(
            "webhook.subscribe",
            token=self.settings.api_key.get_secret_value(),
            path_params={"event": event},
            json={"endpoint": endpoint},
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        data = body.get("data") if isinstance(body, dict) else None
        webhook_id = _webhook_id(data) or _location_id(response.headers.get("location"))
        if webhook_id is None:
            log.warning("tele2: Tele2 gave no id for a new %s webhook; phonebot cannot delete it later", event)
        return Webhook(id=webhook_id, event=event, endpoint=endpoint)

    def _state(self) -> AdapterState:
        """phonebot's store when it gave one; else (a standalone adapter) this object's memory."""
        if self.state is None:
            self.state = _MemoryState()
        return self.state

    def _records_key(self) -> str:
        host = self.settings.base_url.host or ""
        digest = hashlib.sha256(f"{host}\n{self.settings.api_key.get_secret_value()}".encode()).hexdigest()
        return f"webhooks:{digest[:16]}"

    async def _save_records(self, records: Sequence[Webhook]) -> None:
        await self._state().set(self._records_key(), dump_records(records))

    async def _with_ids(self, created: Sequence[Webhook]) -> list[Webhook]:
        """Fill in ids Tele2 did not return, from the webhook list (matched on event and endpoint)."""
        known = {webhook.id for webhook in created if webhook.id is not None}
        listed = [w for w in await self.list_webhooks() or [] if w.id not in known]
        filled: list[Webhook] = []
        for webhook in created:
            if webhook.id is None:
                match = next((w for w in listed if (w.event, w.endpoint) == (webhook.event, webhook.endpoint)), None)
                if match is not None:
                    listed.remove(match)
                    webhook = match
            filled.append(webhook)
        return filled

    async def _delete_webhook(self, webhook: Webhook) -> bool:
        """Delete one subscription; ``False`` when it has no id, ``True`` also when it was gone already."""
        if webhook.id is None or not webhook.id.strip().isdigit():
            log.warning("webhook without a usable id left in place", extra={"vendor": self.name})
            return False
        with contextlib.suppress(NotFound):
            await self._call("webhook.delete", path_params={"webhook_id": webhook.id.strip()})
        return True

    async def _roll_back(self, created: Sequence[Webhook]) -> list[Webhook]:
        """Best effort: delete what this call subscribed; returns what is still there."""
        if any(webhook.id is None for webhook in created):
            with contextlib.suppress(VendorError):
                created = await self._with_ids(created)
        left: list[Webhook] = []
        for webhook in created:
            try:
                deleted = await self._delete_webhook(webhook)
            except VendorError as exc:
                log.warning("could not roll back a webhook", extra={"vendor": self.name, "error": str(exc)})
                deleted = False
            if not deleted:
                left.append(webhook)
        return left


def _webhook_id(data: Any) -> str | None:
    """The new webhook's id from a subscribe answer's ``data`` (a string per the Swagger; inferred to be the id)."""
    if isinstance(data, dict):
        data = next((data[k] for k in ("id", "webhookID", "webhook_id") if k in data), None)
    if isinstance(data, int) and not isinstance(data, bool):
        return str(data)
    if isinstance(data, str) and data.strip().isdigit():
        return data.strip()
    return None


def _location_id(location: str | None) -> str | None:
    """The webhook id at the end of a ``Location: …/api/v2/webhooks/<id>`` header, if that is what it is."""
    if not location:
        return None
    last = location.rstrip("/").rsplit("/", 1)[-1]
    return last if last.isdigit() else None


class _MemoryState:
    """Adapter state that lives as long as the adapter (used when phonebot gave it no store)."""

    durable = False

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self._values.get(key)

    async def set(self, key: str, value: str) -> None:
        self._values[key] = value


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:200]
    return ""


def _unexpected(vendor: str, what: str) -> VendorUnavailable:
    return VendorUnavailable(vendor, f"{vendor} sent an unexpected answer ({what})")
