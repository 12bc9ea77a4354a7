"""Try a vendor for real with the settings an admin typed in, before they are saved.

The adapter's own read-only probe (what ``phonebot check`` runs) is used with a fresh adapter built
from those settings. The outcome names the form field to blame and says what went wrong in
phonebot's words: the vendor's own error text never reaches Slack.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from adapters.base import AdapterConfig
from adapters.errors import NotFound, VendorAuthError, VendorError, VendorRateLimited, VendorRejected, VendorTimeout
from adapters.models import CAPABILITY_LABELS
from adapters.registry import build_adapter
from handlers.setup.vendor_fields import form_fields

log = logging.getLogger(__name__)

#: A whole check gives up after this long (each vendor request has its own ``timeout_seconds`` too).
PROBE_LIMIT_SECONDS = 20.0


@dataclass(frozen=True)
class ProbeOutcome:
    """Whether the vendor took the settings; when not, which field to blame (a form field name) and why."""

    ok: bool
    message: str
    field: str | None = None


async def probe_vendor(
    vendor: str, config: AdapterConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> ProbeOutcome:
    """Run ``vendor``'s read-only probe with ``config``: ok when at least one read worked."""
    adapter = build_adapter(vendor, config, transport=transport)
    name = adapter.display_name
    try:
        async with asyncio.timeout(PROBE_LIMIT_SECONDS):
            rows = await adapter.probe()
    except TimeoutError:
        return ProbeOutcome(False, f"{name} didn't answer in time. Check the base URL, or try again.", "base_url")
    except Exception as exc:  # an adapter bug must not lose the admin's form; the type is enough for the log
        log.warning("checking %s settings failed unexpectedly (%s)", name, type(exc).__name__)
        return ProbeOutcome(False, f"phonebot couldn't check {name} with these settings.", "base_url")
    finally:
        await adapter.aclose()
    tried = [row for row in rows if row.ok is not None and row.capability in adapter.capabilities]
    worked = [row for row in tried if row.ok]
    failed = [row for row in tried if not row.ok]
    if worked or not tried:
        if not failed:
            return ProbeOutcome(True, f"{name} answered every check.")
        labels = ", ".join(CAPABILITY_LABELS[row.capability] for row in failed)
        return ProbeOutcome(True, f"{name} works, but refused: {labels}. An admin can run `phonebot check` to see why.")
    errors = [row.error for row in failed if row.error is not None]
    return _failure(vendor, name, errors)


def _failure(vendor: str, name: str, errors: list[VendorError]) -> ProbeOutcome:
    credential = next((f.name for f in form_fields(vendor) if f.kind == "secret" and f.required), "base_url")
    if any(isinstance(error, VendorAuthError) for error in errors):
        return ProbeOutcome(False, f"{name} refused these credentials.", credential)
    if any(isinstance(error, VendorRateLimited) for error in errors):
        return ProbeOutcome(False, f"{name} asked phonebot to slow down; try again in a minute.", credential)
    if any(isinstance(error, VendorTimeout) for error in errors):
        return ProbeOutcome(False, f"{name} didn't answer in time at this base URL.", "base_url")
    if any(isinstance(error, NotFound | VendorRejected) for error in errors):
        return ProbeOutcome(False, f"This base URL doesn't answer like {name}'s API.", "base_url")
    return ProbeOutcome(False, f"phonebot couldn't reach {name} at this base URL.", "base_url")
