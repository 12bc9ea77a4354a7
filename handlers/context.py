"""Everything a handler needs, built once at startup and passed in (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.base import VendorAdapter
from bot.alerts.queue import AlertQueue
from bot.config import PhonebotConfig
from bot.identity import IdentityResolver
from bot.permissions import AdminPolicy
from bot.slack_users import SlackUser, SlackUserDirectory
from bot.store import Store
from handlers.limits import WorkLimiter


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """The handlers' dependencies."""

    config: PhonebotConfig
    adapters: dict[str, VendorAdapter]
    store: Store
    users: SlackUserDirectory
    identities: IdentityResolver
    clock: Callable[[], datetime] = field(default=utc_now)
    #: Bounds the vendor work done after acks, per process (``max_concurrent_work``).
    work: WorkLimiter = field(default_factory=WorkLimiter)
    #: What only admins may do (``admins:``); without one, nobody is an admin.
    permissions: AdminPolicy = field(default_factory=lambda: AdminPolicy(()))
    #: The alert pipeline's queue (its dead letters), where one runs (not in ``phonebot console``).
    alert_queue: AlertQueue | None = None

    def tz_for(self, user: SlackUser | None) -> ZoneInfo:
        """The user's own Slack time zone, else the configured default."""
        if user is not None and user.tz:
            try:
                return ZoneInfo(user.tz)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.config.tz
