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
  own device rings first. The number format is undocumented; phonebot sends E.164 with '+'.
  Never retried.
* **Lists.** A list that matches nothing answers ``404 No items found``; that is an empty list here.
* **Webhooks.** :meth:`Tele2Adapter.ensure_webhooks`, :meth:`Tele2Adapter.remove_webhooks` and
  :meth:`Tele2Adapter.parse_webhook`; the subscription rules and the event mapping are in
  :mod:`adapters.tele2.webhooks`. Listing webhooks uses ``GET /webhooks``, which the Swagger
  does not publish (inferred; see ``paths.py``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, HttpUrl, SecretStr, ValidationError, field_validator

from adapters.base import AdapterConfig, CountryCode, TimeZoneName, VendorAdapter
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
from adapters.models import Capability, Contact, DialResult, VendorIdentity, VendorUser
from adapters.tele2 import wire
from adapters.tele2.paths import ENDPOINTS, WEBHOOK_EVENTS
from adapters.tele2.webhooks import (
    VENDOR_WEBHOOK_LIMIT,
    Webhook,
    WebhookLimitReached,
    WebhookSyncResult,
    endpoint_for,
    is_ours,
    parse_webhook,
    plan_sync,
    wanted_events,
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
    """

    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    api_key: SecretStr
    default_country: CountryCode = "LT"
    timezone: TimeZoneName = "Europe/Vilnius"
    webhook_limit: int = Field(default=VENDOR_WEBHOOK_LIMIT, ge=1, le=VENDOR_WEBHOOK_LIMIT)

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
        {Capability.DIAL, Capability.DIRECTORY, Capability.CONTACT_SEARCH, Capability.ALERT_WEBHOOKS}
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
        await self._call("dial", json={"destination": destination, "contactID": int(contact_id)})
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

    # -- webhooks -------------------------------------------------------------------------
    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook the account holds, phonebot's and anyone else's (``GET /webhooks``, inferred)."""
        try:
            body = await self._call("webhooks")
        except NotFound:
            return []
        except VendorRejected as exc:
            if exc.status_code != 405:
                raise
            raise VendorRejected(
                self.display_name,
                f"{self.display_name} cannot list its webhooks (GET /webhooks answered 405; it is not in the "
                "published API), so phonebot cannot tell which webhooks exist",
                status_code=405,
            ) from exc
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

    async def ensure_webhooks(self, target_url: str, events: list[str]) -> WebhookSyncResult:
        """Make ``target_url`` receive ``events``: reuse, create what is missing, drop duplicates.

        ``target_url`` may contain ``{event}`` (one callback URL per event). The account's webhooks
        of every owner count against :attr:`Tele2Config.webhook_limit`; past it nothing is changed.
        If Tele2 itself reports its limit while subscribing, the subscriptions made by this call are
        deleted again, so no partial set is left behind.

        Raises:
            VendorRejected: an unknown event, or the limit (the message gives the counts).
        """
        wanted_events(events, vendor=self.display_name)  # refuse a typo before any request
        existing = await self.list_webhooks()
        plan = plan_sync(
            existing,
            target_url=target_url,
            events=events,
            limit=self.settings.webhook_limit,
            vendor=self.display_name,
        )
        removed = [webhook for webhook in plan.remove if await self._delete_webhook(webhook)]
        created: list[Webhook] = []
        try:
            for event in plan.create:
                created.append(await self._subscribe(event, endpoint_for(target_url, event)))
            if any(webhook.id is None for webhook in created):
                created = await self._with_ids(created)
        except VendorError as exc:
            left = await self._roll_back(created)
            if isinstance(exc, WebhookLimitReached):
                undone = (
                    f"{len(left)} webhooks phonebot made just now could not be deleted again"
                    if left
                    else "The webhooks phonebot made just now were deleted again"
                )
                raise VendorRejected(
                    self.display_name,
                    f"{exc.message}. phonebot counted {plan.existing} webhooks and needed {len(plan.create)} more, "
                    f"but the limit is {VENDOR_WEBHOOK_LIMIT} webhooks per account and Tele2 holds some that it "
                    f"did not list. {undone}. Delete webhooks you no longer use in the Mobili Stotele panel "
                    "(API \u2192 WEB HOOKS).",
                    status_code=403,
                ) from exc
            raise
        log.info(
            "tele2 webhooks in sync: %d created, %d reused, %d held by the account",
            len(created),
            len(plan.reuse),
            plan.total,
        )
        return WebhookSyncResult(
            created=tuple(created),
            reused=plan.reuse,
            removed=tuple(removed),
            total=plan.total,
            limit=self.settings.webhook_limit,
        )

    async def subscribe_webhooks(self, target_url: str, *, include_call_events: bool = False) -> str:
        """Subscribe lost-caller and voicemail events (and call events on request); see ensure_webhooks."""
        events = [e for e in WEBHOOK_EVENTS if include_call_events or e.startswith(("LostCaller", "Voicemail"))]
        result = await self.ensure_webhooks(target_url, events)
        return (
            f"{len(result.created)} created, {len(result.reused)} reused, {len(result.removed)} duplicate(s) removed; "
            f"the account now holds {result.total} of at most {result.limit} webhooks"
        )

    async def remove_webhooks(self, target_url: str) -> list[Webhook]:
        """Delete every subscription that delivers to ``target_url``; others' webhooks are left alone."""
        ours = [webhook for webhook in await self.list_webhooks() if is_ours(webhook, target_url)]
        return [webhook for webhook in ours if await self._delete_webhook(webhook)]

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
        body = await self._call("webhook.subscribe", path_params={"event": event}, json={"endpoint": endpoint})
        return Webhook(id=_webhook_id(self._envelope(body).data), event=event, endpoint=endpoint)

    async def _with_ids(self, created: Sequence[Webhook]) -> list[Webhook]:
        """Fill in ids Tele2 did not return, from the webhook list (matched on event and endpoint)."""
        known = {webhook.id for webhook in created if webhook.id is not None}
        listed = [w for w in await self.list_webhooks() if w.id not in known]
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
