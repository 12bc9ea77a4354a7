"""A polled capability whose path the vendor doesn't have is switched off, not retried every round.

A 404 from a poll can't mean "no such item" (a poll names no item): the tenant lacks the
path or the licence behind it (queue statistics without the Supervisor licence, say). Such a
capability is switched off with one warning that says what to do, counted in a gauge, and
tried again quietly once an hour (a licence may be bought, a path override added), instead of
a warning and a backoff every round that also delays the vendor's other, working polls.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from prometheus_client import Gauge

from adapters.models import Capability

log = logging.getLogger(__name__)

#: How long a switched-off capability waits before phonebot asks the vendor again.
RECHECK_AFTER = timedelta(hours=1)

CAPABILITY_OFF = Gauge(
    "phonebot_capability_off",
    "1 while a polled capability is switched off because the vendor answered 404 (path or licence missing)",
    ["vendor", "capability"],
)


class CapabilityGate:
    """Which polled capabilities are switched off, per vendor, until when."""

    def __init__(self) -> None:
        self._off: dict[tuple[str, Capability], datetime] = {}

    def is_off(self, vendor: str, capability: Capability, now: datetime) -> bool:
        """Whether to skip ``capability`` this round (``False`` once the recheck falls due)."""
        until = self._off.get((vendor, capability))
        return until is not None and now < until

    def not_found(self, vendor: str, display_name: str, capability: Capability, now: datetime) -> None:
        """The vendor answered 404: switch ``capability`` off (one warning the first time)."""
        if (vendor, capability) not in self._off:
            log.warning(
                "%s answered 404 for %s: switched off until %s has the path or licence (checked again hourly;"
                " `phonebot check` shows the row, vendors.%s.paths can correct a path)",
                display_name,
                capability.value,
                display_name,
                vendor,
            )
        self._off[(vendor, capability)] = now + RECHECK_AFTER
        CAPABILITY_OFF.labels(vendor, capability.value).set(1)

    def worked(self, vendor: str, display_name: str, capability: Capability) -> None:
        """A poll of ``capability`` succeeded: switch it back on if it was off."""
        if self._off.pop((vendor, capability), None) is not None:
            log.warning("%s answers %s again: switched back on", display_name, capability.value)
            CAPABILITY_OFF.labels(vendor, capability.value).set(0)

    def switched_off(self) -> list[tuple[str, Capability]]:
        """Every (vendor, capability) switched off now."""
        return sorted(self._off, key=lambda key: (key[0], key[1].value))
