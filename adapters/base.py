"""The vendor-neutral adapter contract.

An adapter declares its ``capabilities``; every standard method it does not
override raises :class:`~adapters.errors.NotSupported` (the Libcloud habit), and
``tests/unit/test_capabilities.py`` checks the declaration against the overrides.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from adapters.errors import NotSupported, VendorError, WebhookAuthError
from adapters.events import AlertEvent
from adapters.http import Endpoint
from adapters.models import (
    Activity,
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
from adapters.path_overrides import with_overrides

log = logging.getLogger(__name__)


def _known_region(value: str) -> str:
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown country code {value!r} (use an ISO code such as DK, FI, LT or LV)")
    return region


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


#: An ISO 3166 region phonenumbers knows (``LT``), upper-cased: where national numbers are read.
CountryCode = Annotated[str, AfterValidator(_known_region)]
#: An IANA time zone name (``Europe/Vilnius``): how vendor times without an offset are read.
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class AdapterConfig(BaseModel):
    """Settings common to every vendor; each adapter extends this."""

    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl
    timeout_seconds: float = Field(default=8.0, gt=0, le=60)
    #: Operator corrections of vendor paths, operation name -> path template (checked against the
    #: adapter's endpoint table when the config is read: :mod:`adapters.path_overrides`).
    paths: dict[str, str] = Field(default_factory=dict, max_length=100)


class AdapterState(Protocol):
    """Durable key-value state an adapter may keep between runs (phonebot's store, namespaced per vendor).

    An adapter that must remember something the vendor cannot tell it again (Tele2: the ids of the
    webhooks it registered) gets one through :meth:`VendorAdapter.use_state`; keys are the
    adapter's own, the store keeps them apart from every other vendor's and phonebot's.
    """

    #: False when the state is lost on restart (the embedded store).
    durable: bool

    async def get(self, key: str) -> str | None:
        """The value at ``key``, or ``None``."""

    async def set(self, key: str, value: str) -> None:
        """Store ``value`` at ``key`` (no expiry)."""


@dataclass(frozen=True)
class ProbeResult:
    """One row of ``phonebot check``: did a capability work with these credentials."""

    capability: Capability
    ok: bool | None  # None: declared but not probed (it would change state)
    detail: str
    #: The failure behind ``ok is False`` (its class says why: credentials, reachability…); never shown as is.
    error: VendorError | None = field(default=None, compare=False, repr=False)


class VendorAdapter(ABC):
    """One phone-system vendor behind the neutral contract.

    Subclasses set ``name``, ``display_name``, ``config_model`` and ``capabilities``
    and override the methods for the capabilities they declare.
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    config_model: ClassVar[type[AdapterConfig]]
    capabilities: ClassVar[frozenset[Capability]]
    #: True when the vendor API acts as the token owner, so dialling needs the user's own token.
    acts_as_token_owner: ClassVar[bool] = False
    #: Every vendor operation the adapter calls (its ``paths.ENDPOINTS``).
    endpoints: ClassVar[Mapping[str, Endpoint]] = {}
    #: The devices a dial can be limited to (``users[].dial_device``), vendor words to plain words;
    #: empty when the vendor rings the user's phone as it is set up.
    dial_devices: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: AdapterConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.transport = transport
        self.state: AdapterState | None = None
        #: Parts of a working capability the vendor refuses (a licence, a right), capability -> what:
        #: the capability answers without them; ``phonebot check`` shows them on its row.
        self.left_out: dict[Capability, str] = {}

    def leave_out(self, capability: Capability, what: str) -> None:
        """The vendor refused ``what`` (part of ``capability``): say so once, then answer without it."""
        if self.left_out.get(capability) != what:
            log.warning("%s refused %s: %s is answered without it", self.display_name, what, capability.value)
            self.left_out[capability] = what

    def use_state(self, state: AdapterState) -> None:
        """Give the adapter durable state (see :class:`AdapterState`); phonebot does it before any sync or poll."""
        self.state = state

    def operation_paths(self) -> dict[str, Endpoint]:
        """The endpoint table in use: the adapter's own, with the config's ``paths`` overrides."""
        return with_overrides(self.endpoints, self.config.paths)

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        """Raise :class:`NotSupported` unless this adapter declares ``capability``."""
        if capability not in self.capabilities:
            raise self._unsupported(capability)

    def _unsupported(self, capability: Capability) -> NotSupported:
        from adapters.models import CAPABILITY_LABELS

        return NotSupported(self.display_name, CAPABILITY_LABELS[capability])

    @abstractmethod
    async def aclose(self) -> None:
        """Release HTTP connections."""

    @abstractmethod
    def service_identity(self) -> VendorIdentity:
        """The identity phonebot itself uses (the configured service credential)."""

    def identity_for(self, user: VendorUser, *, token: str | None = None) -> VendorIdentity:
        """Build the identity that acts as ``user`` (optionally with their own token)."""
        return VendorIdentity(
            vendor=self.name, user_id=user.user_id, display_name=user.name, email=user.email, token=token
        )

    # -- presence -------------------------------------------------------------------------
    async def get_presence(self, identity: VendorIdentity) -> Presence:
        """Presence of ``identity``."""
        raise self._unsupported(Capability.PRESENCE_READ)

    async def set_presence(self, identity: VendorIdentity, change: PresenceChange) -> Presence:
        """Set ``identity``'s presence; returns what the vendor now reports."""
        raise self._unsupported(Capability.PRESENCE_WRITE)

    async def list_activities(self, identity: VendorIdentity) -> list[Activity]:
        """Activities ``identity`` may choose from."""
        raise self._unsupported(Capability.PRESENCE_ACTIVITIES)

    # -- calls ----------------------------------------------------------------------------
    async def dial(self, identity: VendorIdentity, number: str) -> DialResult:
        """Ring ``identity``'s own phone, then ``number`` (E.164 with '+'). Never retried."""
        raise self._unsupported(Capability.DIAL)

    async def set_forwarding(self, identity: VendorIdentity, number: str, *, until: datetime | None) -> Presence:
        """Forward ``identity``'s calls to ``number`` (E.164 with '+') until ``until``.

        ``until`` ``None``: until the user's presence next changes (``/presence available``).
        Returns the presence the vendor now shows, since a vendor may tie forwarding to it.
        """
        raise self._unsupported(Capability.CALL_FORWARD)

    async def get_forwarding(self, identity: VendorIdentity) -> str | None:
        """The number ``identity``'s calls are forwarded to now, or ``None``."""
        raise self._unsupported(Capability.CALL_FORWARD)

    # -- queues ---------------------------------------------------------------------------
    async def queue_status(self, identity: VendorIdentity) -> list[QueueStatus]:
        """Every queue/group ``identity`` belongs to or may see."""
        raise self._unsupported(Capability.QUEUE_STATUS)

    async def queue_login(self, identity: VendorIdentity, group_id: str, *, logged_in: bool) -> None:
        """Log ``identity`` in to (or out of) queue ``group_id`` as an agent."""
        raise self._unsupported(Capability.QUEUE_LOGIN)

    # -- directory ------------------------------------------------------------------------
    async def search_contacts(self, identity: VendorIdentity, query: str) -> list[Contact]:
        """Contacts whose name matches ``query``."""
        raise self._unsupported(Capability.CONTACT_SEARCH)

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        """Colleagues in the vendor's user directory (for email matching and ``@user``)."""
        raise self._unsupported(Capability.DIRECTORY)

    async def search_users(self, identity: VendorIdentity, query: str, *, limit: int) -> list[VendorUser]:
        """At most ``limit`` colleagues whose name has every word of ``query``, or whose number or id is it.

        For people finding themselves in the directory; this default filters :meth:`list_users`.
        """
        words = query.casefold().split()
        digits = "".join(ch for ch in query if ch.isdigit())
        if not words:
            return []
        found: list[VendorUser] = []
        for user in await self.list_users(identity):
            number = "".join(ch for ch in user.number or "" if ch.isdigit())
            by_name = all(word in user.name.casefold() for word in words)
            by_number = len(digits) >= 3 and number.endswith(digits)
            if by_name or by_number or user.user_id.casefold() == query.strip().casefold():
                found.append(user)
                if len(found) >= limit:
                    break
        return found

    async def find_user_by_email(self, identity: VendorIdentity, email: str) -> VendorUser | None:
        """The colleague whose directory email is ``email`` (case-insensitive), if any."""
        wanted = email.strip().lower()
        for user in await self.list_users(identity):
            if user.email and user.email.strip().lower() == wanted:
                return user
        return None

    # -- alerts ---------------------------------------------------------------------------
    #: How ``/webhooks/<vendor>/...`` requests are authenticated: ``"signature"`` (the vendor
    #: signs bodies; :meth:`verify_webhook` checks it) or ``"url_token"`` (the vendor signs
    #: nothing; phonebot issues an unguessable token per resource and the URL carries it).
    webhook_auth: ClassVar[Literal["signature", "url_token"]] = "url_token"

    @classmethod
    def manual_webhook_events(cls, *, include_call_events: bool = False) -> tuple[str, ...]:
        """The events whose name ends the webhook path, one URL each (``phonebot webhooks url``); ``()``: one URL."""
        return ()

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise :class:`~adapters.errors.WebhookAuthError` unless the vendor signed ``body``.

        Only called for ``webhook_auth == "signature"`` vendors.
        """
        raise WebhookAuthError(f"{self.display_name} webhooks are not signed")

    def webhook_delivery_id(self, headers: Mapping[str, str]) -> str | None:
        """The vendor's own delivery id (for cheap dedupe of redeliveries), when it sends one."""
        return None

    def webhook_binding(self, resource: str | None, events: list[AlertEvent]) -> str | None:
        """What a URL issued for a *label* (not a vendor id) is bound to by its first body, if anything.

        Some resources are named before the vendor gives them an id (a click-to-call list gets
        its URL when it is created). The receiver binds such a URL to the vendor object its first
        accepted body is about and refuses bodies about any other. ``None``: nothing to bind.
        """
        return None

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, path: str, resource: str | None = None
    ) -> list[AlertEvent]:
        """An authenticated webhook as neutral events (empty for events phonebot ignores).

        ``path`` is what follows ``/webhooks/<vendor>/`` (after the URL token, if any);
        ``resource`` is what the URL token was issued for.

        Raises:
            VendorRejected: the body is not a readable callback (the receiver answers 400).
        """
        raise self._unsupported(Capability.ALERT_WEBHOOKS)

    async def subscribe_webhooks(self, target_url: str, *, include_call_events: bool = False) -> str:
        """Register (or reuse) the vendor-side subscriptions delivering to ``target_url``.

        ``target_url`` may contain ``{event}``. Returns a one-line summary for ``phonebot webhooks sync``.
        Vendors whose webhooks are set up by hand raise :class:`NotSupported`.
        """
        raise NotSupported(self.display_name, "registering webhooks through its API")

    async def prune_webhooks(
        self, target_url: str, *, include_call_events: bool = False, everything: bool = False
    ) -> str:
        """Delete phonebot's own stale vendor-side subscriptions (all of them with ``everything``).

        Stale: phonebot made them for another ``target_url`` or an event it no longer wants.
        Returns a one-line summary for ``phonebot webhooks prune``; vendors without
        :meth:`subscribe_webhooks` raise :class:`NotSupported`.
        """
        raise NotSupported(self.display_name, "removing webhooks through its API")

    async def poll_alerts(self, cursor: Mapping[str, Any] | None, *, now: datetime) -> PollResult:
        """Events since ``cursor`` (``None`` on first run: remember the present, alert on nothing old)."""
        raise self._unsupported(Capability.ALERT_POLLING)

    def poll_backlog(self, cursor: Mapping[str, Any] | None) -> str | None:
        """What a saved ``poll_alerts`` cursor has not read yet (a round hit its page limit), or ``None``.

        ``phonebot check`` shows it; vendors whose polling cannot fall behind keep this default.
        """
        return None

    async def claim_alert(self, identity: VendorIdentity, event_detail: Mapping[str, Any], *, handled: bool) -> None:
        """Record at the vendor that ``identity`` took (``handled=False``) or finished a lost call."""
        raise self._unsupported(Capability.ALERT_CLAIM)

    async def mark_voicemail_heard(self, identity: VendorIdentity, voicemail_id: str) -> None:
        """Mark a voicemail heard at the vendor."""
        raise self._unsupported(Capability.VOICEMAIL_HEARD)

    async def voicemail_audio(self, voicemail_id: str, *, owners: UserTokens | None = None) -> VoicemailAudio:
        """The recording of a voicemail, for phonebot's Listen link.

        ``owners`` are the personal tokens phonebot holds; a vendor that serves a mailbox's audio
        only to its owner uses the owner's, and raises :class:`~adapters.errors.IdentityError`
        (plain words, no request made) when phonebot holds none.
        """
        raise self._unsupported(Capability.VOICEMAIL_AUDIO)

    # -- diagnostics ----------------------------------------------------------------------
    async def probe(self) -> list[ProbeResult]:
        """Try each declared capability read-only with the service credential."""
        me = self.service_identity()
        readers: dict[Capability, Callable[[], Awaitable[Any]]] = {
            Capability.PRESENCE_READ: lambda: self.get_presence(me),
            Capability.PRESENCE_ACTIVITIES: lambda: self.list_activities(me),
            Capability.QUEUE_STATUS: lambda: self.queue_status(me),
            Capability.CONTACT_SEARCH: lambda: self.search_contacts(me, "a"),
            Capability.DIRECTORY: lambda: self.list_users(me),
            Capability.CALL_FORWARD: lambda: self.get_forwarding(me),
        }
        results: list[ProbeResult] = []
        for capability in Capability:
            if capability not in self.capabilities:
                results.append(ProbeResult(capability, False, "not offered by this vendor"))
                continue
            reader = readers.get(capability)
            if reader is None:
                why = "it needs a voicemail" if capability is Capability.VOICEMAIL_AUDIO else "it would change state"
                results.append(ProbeResult(capability, None, f"not probed: {why}"))
                continue
            try:
                await reader()
            except VendorError as exc:
                results.append(ProbeResult(capability, False, exc.message, exc))
            else:
                missing = self.left_out.get(capability)
                results.append(ProbeResult(capability, True, f"ok, without {missing}" if missing else "ok"))
        return results
