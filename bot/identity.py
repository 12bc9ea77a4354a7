"""Map a Slack user to a vendor identity.

Order: an explicit ``users:`` entry in the config (by Slack id, then by email; the file wins), then
the user's own account link (:mod:`bot.linking`: their OAuth grant, or a pick from the directory or
by an admin), then — when ``identity.match_by_email`` is on — the Slack profile email looked up in each
configured vendor's directory (the default vendor first). Email matches are cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from adapters.base import VendorAdapter
from adapters.errors import IdentityError, NotSupported, VendorAuthError, VendorError
from adapters.models import Capability, VendorIdentity, VendorUser
from bot.config import PhonebotConfig, UserMapping
from bot.linking.links import AccountLink, AccountLinks
from bot.linking.requests import LinkRequests
from bot.slack_users import SlackUser, SlackUserDirectory
from bot.store import Store

log = logging.getLogger(__name__)

HOW_TO_LINK = (
    "Ask a phonebot admin to link you: add an entry under `users:` in the phonebot config "
    "(your Slack id or email, and your phone-system user), or make sure your Slack email is the "
    "same as the one in the phone system's directory."
)


class NotLinked(IdentityError):
    """The user is linked to no phone-system user, and can link themselves.

    At ``link_url`` (a vendor's OAuth, e.g. Relatel), or, without one, by picking themselves from the
    directory of ``vendor_name`` in the workspace whose data prefix is ``workspace`` (a button's value).
    """

    def __init__(
        self,
        message: str,
        *,
        link_url: str | None,
        vendor: str,
        vendor_name: str | None = None,
        workspace: str | None = None,
    ) -> None:
        super().__init__(message)
        self.link_url = link_url
        self.vendor = vendor
        self.vendor_name = vendor_name
        self.workspace = workspace


@runtime_checkable
class TokenOwnerLookup(Protocol):
    """An adapter that can say whose a user token is (and so whether the vendor still accepts it)."""

    async def account_of(self, token: str) -> VendorUser: ...


#: Makes a single-use link-your-account URL for (workspace data prefix, Slack user id, the workspace's adapter),
#: or ``None`` when that adapter offers no self-service linking (a Relatel vendor without an OAuth app).
LinkOffer = Callable[[str, str, VendorAdapter], Awaitable[str | None]]


@dataclass(frozen=True)
class Linked:
    """A Slack user's vendor identity and the adapter that speaks for it."""

    slack_user_id: str
    adapter: VendorAdapter
    identity: VendorIdentity
    how: Literal["config", "email", "oauth", "directory", "admin"]
    vendor_user: VendorUser | None = None


class IdentityResolver:
    """Resolves Slack users to :class:`Linked` identities."""

    def __init__(
        self,
        *,
        config: PhonebotConfig,
        adapters: dict[str, VendorAdapter],
        users: SlackUserDirectory,
        store: Store,
        key_prefix: str = "",
        links: AccountLinks | None = None,
        link_offers: dict[str, LinkOffer] | None = None,
        directory_pick: bool = True,
    ) -> None:
        self.config = config
        self.links = links
        #: Vendors whose people can link themselves (Relatel's OAuth): vendor name -> offer.
        self.link_offers = link_offers or {}
        #: People of a vendor without an offer may pick themselves from its directory (``bot.linking.directory``),
        #: wherever links are kept (``links`` and a workspace's ``key_prefix``).
        self.directory_pick = directory_pick
        self.adapters = adapters
        self.users = users
        self.store = store
        self.key_prefix = key_prefix

    def with_users(self, users: SlackUserDirectory, *, key_prefix: str | None = None) -> IdentityResolver:
        """This resolver for one request's installation: Slack users from ``users``, its cache under ``key_prefix``."""
        return IdentityResolver(
            config=self.config,
            adapters=self.adapters,
            users=users,
            store=self.store,
            key_prefix=self.key_prefix if key_prefix is None else key_prefix,
            links=self.links,
            link_offers=self.link_offers,
            directory_pick=self.directory_pick,
        )

    def with_config(self, config: PhonebotConfig, adapters: Mapping[str, VendorAdapter]) -> IdentityResolver:
        """This resolver for one workspace's config and adapters (the file's, with what its admins set up)."""
        if config is self.config and adapters == self.adapters:
            return self
        return IdentityResolver(
            config=config,
            adapters=dict(adapters),
            users=self.users,
            store=self.store,
            key_prefix=self.key_prefix,
            links=self.links,
            link_offers={name: offer for name, offer in self.link_offers.items() if name in adapters},
        )

    async def resolve(self, slack_user_id: str) -> Linked:
        """The identity for ``slack_user_id``; :class:`IdentityError` with guidance when none."""
        if not self.adapters:
            raise IdentityError("No phone system is configured yet. " + HOW_TO_LINK)
        slack_user = await self.users.get(slack_user_id)
        mapping = self._mapping_for(slack_user_id, slack_user)
        if mapping is not None:
            return await self._from_mapping(slack_user_id, slack_user, mapping)
        link = await self.link_of(slack_user_id)
        if link is not None and link.vendor in self.adapters:
            return self._from_link(slack_user_id, slack_user, link)
        by_email = self.config.identity.match_by_email and slack_user is not None and bool(slack_user.email)
        if by_email and slack_user is not None and slack_user.email:
            found = await self._by_email(slack_user_id, slack_user.email)
            if found is not None:
                return found
        await self._offer_link(slack_user_id)
        await self._offer_directory_pick(slack_user_id, slack_user if by_email else None)
        if by_email and slack_user is not None:
            raise IdentityError(
                f"I couldn't find {slack_user.email} in "
                f"{self._vendor_names()}'s directory, so I don't know which phone is yours. " + HOW_TO_LINK
            )
        raise IdentityError("Your Slack account isn't linked to a phone-system user. " + HOW_TO_LINK)

    async def refused_link(self, slack_user_id: str) -> IdentityError | None:
        """After the vendor refused a call: the user's own linked token, if that is what was refused.

        The token is checked on its own (the refusal may have been the service token's); a token
        the vendor no longer accepts is unlinked, and the answer offers to link again.
        """
        link = await self.link_of(slack_user_id)
        adapter = self.adapters.get(link.vendor) if link is not None else None
        if link is None or link.how != "oauth" or link.token is None or not isinstance(adapter, TokenOwnerLookup):
            return None
        try:
            await adapter.account_of(link.token)
        except VendorAuthError:
            pass
        except VendorError:
            return None  # can't tell now; keep the link
        else:
            return None  # the token still works: something else was refused
        assert self.links is not None
        await self.links.remove(self.key_prefix, slack_user_id)
        log.info("a linked token was refused by the vendor; the user was unlinked", extra={"vendor": link.vendor})
        try:
            await self._offer_link(slack_user_id)
        except NotLinked as offer:
            return NotLinked(
                f"{adapter.display_name} no longer accepts your linked account (its access may have been "
                "revoked), so I unlinked it and nothing was done. Link it again to carry on.",
                link_url=offer.link_url,
                vendor=offer.vendor,
            )
        return IdentityError(
            f"{adapter.display_name} no longer accepts your linked account, so I unlinked it. " + HOW_TO_LINK
        )

    async def _offer_link(self, slack_user_id: str) -> None:
        """Raise :class:`NotLinked` with a button's URL when the user can link themselves here."""
        if self.links is None or not self.key_prefix:
            return
        for adapter in self._adapters_in_order():
            offer = self.link_offers.get(adapter.name)
            url = await offer(self.key_prefix, slack_user_id, adapter) if offer is not None else None
            if url is not None:
                raise NotLinked(
                    f"Your Slack account isn't linked to a {adapter.display_name} user yet. Link your own "
                    f"account once and `/call` rings your phone.",
                    link_url=url,
                    vendor=adapter.display_name,
                )

    async def _offer_directory_pick(self, slack_user_id: str, slack_user: SlackUser | None) -> None:
        """Raise :class:`NotLinked` offering the directory of the first vendor that has one (no OAuth here)."""
        if self.links is None or not self.key_prefix or not self.directory_pick:
            return
        adapter = self.directory_vendor()
        if adapter is None:
            return
        pending = await LinkRequests(self.links.store, self.links).get(self.key_prefix, slack_user_id)
        if pending is not None:
            missed = (
                f"You picked yourself ({pending.name or pending.user_id}) from {adapter.display_name}'s directory; "
                "that waits for a phonebot admin's approval, so I don't know which phone is yours yet."
            )
            then = "Picked the wrong one? Pick again."
        elif slack_user is not None and slack_user.email:
            missed = (
                f"I couldn't find {slack_user.email} in {adapter.display_name}'s directory, so I don't know "
                "which phone is yours."
            )
            then = "Find yourself in the directory once and `/call` rings your phone."
        else:
            missed = f"Your Slack account isn't linked to a {adapter.display_name} user yet."
            then = "Find yourself in the directory once and `/call` rings your phone."
        raise NotLinked(
            f"{missed} {then}",
            link_url=None,
            vendor=adapter.display_name,
            vendor_name=adapter.name,
            workspace=self.key_prefix,
        )

    def directory_vendor(self) -> VendorAdapter | None:
        """The vendor people here pick themselves from: the first (default first) with a directory and no OAuth."""
        for adapter in self._adapters_in_order():
            if adapter.name not in self.link_offers and adapter.supports(Capability.DIRECTORY):
                return adapter
        return None

    async def link_of(self, slack_user_id: str) -> AccountLink | None:
        """The user's self-service link in this request's workspace (none outside a workspace)."""
        if self.links is None or not self.key_prefix:
            return None
        return await self.links.get(self.key_prefix, slack_user_id)

    def _from_link(self, slack_user_id: str, slack_user: SlackUser | None, link: AccountLink) -> Linked:
        identity = VendorIdentity(
            vendor=link.vendor,
            user_id=link.user_id,
            display_name=link.name or (slack_user.name if slack_user else None),
            email=slack_user.email if slack_user else None,
            token=link.token,
        )
        return Linked(slack_user_id, self.adapters[link.vendor], identity, link.how)

    def _vendor_names(self) -> str:
        return " or ".join(adapter.display_name for adapter in self._adapters_in_order())

    def _adapters_in_order(self) -> list[VendorAdapter]:
        primary = self.config.primary_vendor()
        ordered = sorted(self.adapters.items(), key=lambda item: item[0] != primary)
        return [adapter for _, adapter in ordered]

    def _mapping_for(self, slack_user_id: str, slack_user: SlackUser | None) -> UserMapping | None:
        for mapping in self.config.users:
            if mapping.slack == slack_user_id:
                return mapping
        email = (slack_user.email or "").lower() if slack_user else ""
        if email:
            for mapping in self.config.users:
                if mapping.email and mapping.email.lower() == email and not mapping.slack:
                    return mapping
        return None

    async def _from_mapping(self, slack_user_id: str, slack_user: SlackUser | None, mapping: UserMapping) -> Linked:
        vendor = mapping.vendor or self.config.primary_vendor()
        assert vendor is not None  # adapters is non-empty
        adapter = self.adapters[vendor]
        token = mapping.token.get_secret_value() if mapping.token else None
        if mapping.vendor_user:
            identity = VendorIdentity(
                vendor=vendor,
                user_id=mapping.vendor_user,
                display_name=slack_user.name if slack_user else None,
                email=mapping.email or (slack_user.email if slack_user else None),
                token=token,
                dial_device=mapping.dial_device,
            )
            return Linked(slack_user_id, adapter, identity, "config")
        email = mapping.email or (slack_user.email if slack_user else None)
        if not email:
            raise IdentityError(
                "Your phonebot user mapping names neither a phone-system user nor an email. " + HOW_TO_LINK
            )
        user = await adapter.find_user_by_email(adapter.service_identity(), email)
        if user is None:
            raise IdentityError(f"{adapter.display_name} has no user with the email {email}. " + HOW_TO_LINK)
        identity = adapter.identity_for(user, token=token).model_copy(update={"dial_device": mapping.dial_device})
        return Linked(slack_user_id, adapter, identity, "config", user)

    async def _by_email(self, slack_user_id: str, email: str) -> Linked | None:
        cache_key = f"{self.key_prefix}identity:email:{slack_user_id}"
        cached = await self.store.get(cache_key)
        if cached is not None:
            data = json.loads(cached)
            adapter = self.adapters.get(data["vendor"])
            if adapter is not None:
                user = VendorUser.model_validate(data["user"])
                return Linked(slack_user_id, adapter, adapter.identity_for(user), "email", user)
        for adapter in self._adapters_in_order():
            try:
                found = await adapter.find_user_by_email(adapter.service_identity(), email)
            except NotSupported:
                continue
            except VendorError:
                log.warning("email lookup failed", extra={"vendor": adapter.name})
                raise
            if found is not None:
                payload = json.dumps({"vendor": adapter.name, "user": found.model_dump()})
                if self.config.identity.cache_seconds:
                    await self.store.set(cache_key, payload, ttl=self.config.identity.cache_seconds)
                return Linked(slack_user_id, adapter, adapter.identity_for(found), "email", found)
        return None
