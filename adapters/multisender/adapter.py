"""Multisender REST API v1 behind phonebot's neutral contract.

How the contract maps onto the API (details in ``shared/vendors/multisender.md``):

* **Not a PBX.** Multisender sends SMS / e-mail and runs outbound IVR campaigns: RSVP calls (call a list,
  count accept/decline key presses until ``acceptsWanted``) and click-to-call escalation lists (call
  receivers *in order until one accepts*). It has no presence, queues, call log or voicemail, and no
  "ring my phone, then bridge" call, so the only capability is :attr:`Capability.ALERT_WEBHOOKS`. Its
  accounts are campaign receivers (anyone with a phone number), not colleagues, and phonebot's
  contact search exists to feed ``/call``, which Multisender cannot do, so neither ``DIRECTORY`` nor
  ``CONTACT_SEARCH`` is declared.
* **Token.** One static API token, sent as ``X-Access-Token`` (the auth section) and, because most write
  operations' tables name ``X-Authentication-Token`` instead, in that header too. Every request sends
  ``Accept`` and ``Content-Type: application/json`` (the doc requires both). The token belongs to no
  person: :meth:`MultisenderAdapter.service_identity` has ``user_id=""``.
* **Webhooks.** Unsigned, configured per resource (``stateWebhookUrl`` and ``receiverWebhookUrl`` on an
  RSVP call, ``receiverWebhookUrl`` on a click-to-call), so phonebot authenticates them with per-resource
  URL tokens (``webhook_auth = "url_token"``); the mapping is in :mod:`adapters.multisender.webhooks`.
* **Setting webhook URLs.** RSVP calls can be updated (``PUT``, a full replacement), so
  :meth:`MultisenderAdapter.subscribe_webhooks` can point RSVP calls that have *no* webhooks yet at
  phonebot. It is off unless ``attach_rsvp_webhooks: true``, because it rewrites the customer's
  campaigns; calls whose webhooks point elsewhere are never touched. Click-to-call lists cannot be
  updated: their ``receiverWebhookUrl`` must be given when they are created (``phonebot webhooks url
  multisender c2c-<label>``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, HttpUrl, SecretStr, ValidationError, field_validator

from adapters.base import AdapterConfig, CountryCode, ProbeResult, TimeZoneName, VendorAdapter
from adapters.errors import NotFound, NotSupported, VendorError, VendorRejected, VendorUnavailable
from adapters.events import AlertEvent
from adapters.http import RetryPolicy, VendorHttpClient
from adapters.models import Capability, VendorIdentity
from adapters.multisender import wire
from adapters.multisender.paths import ENDPOINTS
from adapters.multisender.webhooks import Scope, parse_webhook

log = logging.getLogger(__name__)
_M = TypeVar("_M", bound=BaseModel)

DEFAULT_BASE_URL = "https://api.multisender.net/v1/"
#: Replaced by ``state`` / ``receiver`` in a ``subscribe_webhooks`` target URL.
EVENT_PLACEHOLDER = "{event}"
#: What a PUT of an RSVP call must send (seed: "Required: Yes"); phonebot sends them back unchanged.
RSVP_REQUIRED: tuple[str, ...] = (
    "endTime",
    "activeFrom",
    "activeTo",
    "activeWeekdays",
    "voiceFiles",
    "actionButtons",
    "acceptsWanted",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MultisenderConfig(AdapterConfig):
    """Settings for the ``multisender`` vendor section.

    Args:
        base_url: API root (``https://api.multisender.net/v1/``; the ``/v1`` prefix is inferred).
        api_token: the account's (or a sub-user's) ``authToken``; never the password.
        default_country: ISO region for national numbers in webhooks (``FI``).
        timezone: IANA zone of vendor times that carry no offset (webhook ``timestamp``).
        attach_rsvp_webhooks: let ``phonebot webhooks sync`` (and ``serve`` at startup) set phonebot's
            webhook URLs on RSVP calls that have none; off by default because it rewrites campaigns.
    """

    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    api_token: SecretStr
    default_country: CountryCode = "FI"
    timezone: TimeZoneName = "Europe/Helsinki"
    attach_rsvp_webhooks: bool = False

    @field_validator("api_token")
    @classmethod
    def _bare_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError("the API token is empty")
        if any(ch.isspace() for ch in token):
            raise ValueError("the API token contains spaces; paste the authToken alone")
        return SecretStr(token)


@dataclass(frozen=True)
class AttachResult:
    """What :meth:`MultisenderAdapter.attach_webhooks` did across the account's RSVP calls (ids)."""

    attached: tuple[str, ...]
    already: tuple[str, ...]
    elsewhere: tuple[str, ...]
    complete: tuple[str, ...]
    failed: tuple[str, ...]
    click_to_calls_not_reporting: int | None  # None: the list could not be read


class MultisenderAdapter(VendorAdapter):
    """Multisender REST API v1 (see the module docstring for the mapping).

    Args:
        config: a :class:`MultisenderConfig`.
        transport: optional httpx transport (tests).
        retry: retry policy for idempotent calls (tests pass tiny delays).
        clock: returns the current aware UTC time (webhook receipt time, RSVP start checks).
    """

    name = "multisender"
    display_name = "Multisender"
    config_model = MultisenderConfig
    endpoints = ENDPOINTS
    capabilities = frozenset({Capability.ALERT_WEBHOOKS})
    webhook_auth = "url_token"

    def __init__(
        self,
        config: AdapterConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(config, MultisenderConfig):
            raise TypeError(f"MultisenderAdapter needs a MultisenderConfig, not {type(config).__name__}")
        super().__init__(config, transport=transport)
        self.settings = config
        self._clock = clock or _utcnow
        self._zone = ZoneInfo(config.timezone)
        token = config.api_token.get_secret_value()
        timeout = config.timeout_seconds
        self._http = VendorHttpClient(
            vendor=self.display_name,
            base_url=str(config.base_url),
            endpoints=self.operation_paths(),
            default_headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "X-Access-Token": token,
                "X-Authentication-Token": token,  # named by most write operations' tables (a doc slip, harmless)
            },
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
            retry=retry,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Release HTTP connections."""
        await self._http.aclose()

    def service_identity(self) -> VendorIdentity:
        """The account's API token; it belongs to no person, so ``user_id`` is empty."""
        return VendorIdentity(vendor=self.name, user_id="", display_name="Multisender API token")

    async def probe(self) -> list[ProbeResult]:
        """The base table, with webhooks probed by reading the RSVP call list (proves the token)."""
        try:
            calls = await self.list_rsvp_calls()
        except VendorError as exc:
            row = ProbeResult(Capability.ALERT_WEBHOOKS, False, exc.message, exc)
        else:
            row = ProbeResult(Capability.ALERT_WEBHOOKS, True, f"token accepted; {len(calls)} RSVP call(s)")
        return [row if r.capability == Capability.ALERT_WEBHOOKS else r for r in await super().probe()]

    # -- webhooks -------------------------------------------------------------------------
    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, path: str, resource: str | None = None
    ) -> list[AlertEvent]:
        """An RSVP or click-to-call callback as notifications (mapping in :mod:`adapters.multisender.webhooks`).

        Multisender signs nothing, so ``headers`` are not read: the receiver has checked the URL token,
        and ``resource`` (what it was issued for) limits which bodies are accepted.

        Raises:
            VendorRejected: the body is unreadable or does not fit ``resource`` / ``path`` (answer 400).
        """
        return parse_webhook(
            body,
            vendor=self.name,
            display_name=self.display_name,
            region=self.settings.default_country,
            zone=self._zone,
            received_at=self._clock(),
            path=path,
            resource=resource,
        )

    def webhook_binding(self, resource: str | None, events: list[AlertEvent]) -> str | None:
        """A label URL (``c2c-nightshift``, ``rsvp-spring``) is bound to the campaign of its first body."""
        scope = Scope.of(resource, display_name=self.display_name)
        if scope.ident is None or scope.ident.isdigit():
            return None  # the account URL takes any campaign; an id URL is checked against the body itself
        campaigns = {event.subject for event in events}
        return campaigns.pop() if len(campaigns) == 1 else None

    async def subscribe_webhooks(self, target_url: str, *, include_call_events: bool = False) -> str:
        """Point RSVP calls without webhooks at ``target_url`` (``{event}`` → ``state`` / ``receiver``).

        Only with ``attach_rsvp_webhooks: true``; see :meth:`attach_webhooks`. ``include_call_events``
        has no meaning here (Multisender has no call feed).

        Raises:
            NotSupported: ``attach_rsvp_webhooks`` is off (set webhook URLs by hand, see the README).
        """
        if not self.settings.attach_rsvp_webhooks:
            raise NotSupported(
                self.display_name,
                "registering webhooks through its API",
                "attach_rsvp_webhooks is off; paste `phonebot webhooks url multisender rsvp-<id>` URLs instead",
            )
        result = await self.attach_webhooks(target_url)
        parts = [
            f"{len(result.attached)} RSVP call(s) now report to phonebot",
            f"{len(result.already)} already did",
            f"{len(result.elsewhere)} left alone (their webhooks point elsewhere)",
            f"{len(result.complete)} complete",
        ]
        if result.failed:
            parts.append(f"{len(result.failed)} could not be updated ({', '.join(result.failed)})")
        if result.click_to_calls_not_reporting:
            parts.append(
                f"{result.click_to_calls_not_reporting} click-to-call list(s) do not report to phonebot "
                "(their webhook can only be set when they are created)"
            )
        return "; ".join(parts)

    async def attach_webhooks(self, target_url: str) -> AttachResult:
        """Set phonebot's webhook URLs on every unfinished RSVP call that has no webhooks yet.

        A call whose webhook URLs point anywhere else is left alone; a call that already reports to
        ``target_url`` is not written again. One call failing does not stop the others.
        """
        state_url, receiver_url = _urls(target_url)
        attached: list[str] = []
        already: list[str] = []
        elsewhere: list[str] = []
        complete: list[str] = []
        failed: list[str] = []
        for call in await self.list_rsvp_calls():
            current = {call.stateWebhookUrl, call.receiverWebhookUrl} - {None}
            if call.state == "complete":
                complete.append(call.rsvpCallId)
            elif (call.stateWebhookUrl, call.receiverWebhookUrl) == (state_url, receiver_url):
                already.append(call.rsvpCallId)
            elif current - {state_url, receiver_url}:
                elsewhere.append(call.rsvpCallId)
            else:
                try:
                    await self.set_rsvp_webhooks(call.rsvpCallId, state_url=state_url, receiver_url=receiver_url)
                except VendorRejected as exc:
                    log.warning("rsvp call not updated", extra={"vendor": self.name, "error": exc.message})
                    failed.append(call.rsvpCallId)
                else:
                    attached.append(call.rsvpCallId)
        try:
            lists = await self.list_click_to_calls()
        except (NotFound, VendorRejected):
            not_reporting: int | None = None
        else:
            not_reporting = sum(1 for c in lists if c.receiverWebhookUrl != receiver_url)
        return AttachResult(
            attached=tuple(attached),
            already=tuple(already),
            elsewhere=tuple(elsewhere),
            complete=tuple(complete),
            failed=tuple(failed),
            click_to_calls_not_reporting=not_reporting,
        )

    async def set_rsvp_webhooks(self, rsvp_call_id: str, *, state_url: str, receiver_url: str) -> wire.RsvpCall:
        """Set one RSVP call's ``stateWebhookUrl`` and ``receiverWebhookUrl``, changing nothing else.

        The PUT is a full replacement, so the call is read first and its required fields are sent back
        unchanged. ``state`` is sent only when it is ``active``/``halt`` (the updatable values), so a
        paused call stays paused; ``startTime`` only while it is still ahead (a missing one means "start
        now", which is moot for a started call, and one more than 1 h past is refused). Receivers
        cannot be sent in a PUT and stay as they are.

        Raises:
            VendorRejected: the call is complete, or lacks a field the PUT must carry.
        """
        call = await self.rsvp_call(rsvp_call_id)
        if call.state == "complete":
            raise VendorRejected(self.display_name, f"RSVP call {rsvp_call_id} is complete; it sends no more webhooks")
        fields = call.model_dump(by_alias=False)
        missing = [name for name in RSVP_REQUIRED if fields.get(name) is None]
        if missing:
            raise VendorRejected(
                self.display_name,
                f"RSVP call {rsvp_call_id} came without {', '.join(missing)}, which an update must send back; "
                "set its webhook URLs in Multisender by hand",
            )
        body: dict[str, Any] = {name: fields[name] for name in RSVP_REQUIRED}
        if call.state in ("active", "halt"):
            body["state"] = call.state
        start = wire.parse_time(call.startTime, UTC)
        if start is not None and start > self._clock():
            body["startTime"] = wire.format_utc(start)
        if call.maxRedials is not None:
            body["maxRedials"] = call.maxRedials
        if call.meta is not None:
            body["meta"] = call.meta
        body["stateWebhookUrl"] = state_url
        body["receiverWebhookUrl"] = receiver_url
        answer = await self._http.call(
            "rsvp_call.update", token=None, path_params={"rsvp_call_id": rsvp_call_id}, json=body
        )
        return self._one(wire.RsvpCall, answer, "the updated RSVP call") if isinstance(answer, dict) else call

    # -- reads ----------------------------------------------------------------------------
    async def list_rsvp_calls(self) -> list[wire.RsvpCall]:
        """Every RSVP call of the account (a bare array; no paging is documented)."""
        return self._many(wire.RsvpCall, await self._http.call("rsvp_calls", token=None), "the RSVP call list")

    async def rsvp_call(self, rsvp_call_id: str) -> wire.RsvpCall:
        """One RSVP call with its webhook URLs and meta."""
        body = await self._http.call("rsvp_call", token=None, path_params={"rsvp_call_id": rsvp_call_id})
        return self._one(wire.RsvpCall, body, "an RSVP call")

    async def list_click_to_calls(self) -> list[wire.ClickToCall]:
        """Every click-to-call list of the account (inferred path)."""
        return self._many(
            wire.ClickToCall, await self._http.call("click_to_calls", token=None), "the click-to-call list"
        )

    # -- private --------------------------------------------------------------------------
    def _one(self, model: type[_M], body: Any, what: str) -> _M:
        if not isinstance(body, dict):
            raise _unexpected(self.display_name, f"{what} is not a JSON object")
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise _unexpected(self.display_name, f"{what} has no id") from exc

    def _many(self, model: type[_M], body: Any, what: str) -> list[_M]:
        if body is None:
            return []
        if not isinstance(body, list):
            raise _unexpected(self.display_name, f"{what} is not a list")
        return [self._one(model, item, what) for item in body]


def _urls(target_url: str) -> tuple[str, str]:
    """The state and receiver callback URLs for ``target_url``."""
    if EVENT_PLACEHOLDER in target_url:
        return target_url.replace(EVENT_PLACEHOLDER, "state"), target_url.replace(EVENT_PLACEHOLDER, "receiver")
    base = target_url.rstrip("/")
    return f"{base}/state", f"{base}/receiver"


def _unexpected(vendor: str, what: str) -> VendorUnavailable:
    return VendorUnavailable(vendor, f"{vendor} sent an unexpected answer ({what})")
