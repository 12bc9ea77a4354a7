"""The one error tree every vendor adapter raises.

Handlers catch these and turn them into plain sentences for the user; nothing else
from an adapter (httpx errors, JSON errors, KeyErrors) may escape.

Every :class:`VendorError` says whether its write may have happened anyway
(``outcome_unknown``): a write that timed out or lost its connection after the request
went out may have rung the phone or changed the presence, so it is never retried and the
user is never told "nothing was changed".

    PhonebotError
     ├── VendorError                  a vendor call failed (carries the vendor name)
     │    ├── VendorAuthError         credentials missing, invalid or revoked (401/403)
     │    ├── VendorRateLimited       429; ``retry_after`` seconds when the vendor said so
     │    ├── VendorUnavailable       5xx, connection trouble
     │    │    └── VendorTimeout      no answer within the configured timeout
     │    ├── VendorRejected          the vendor refused our input (4xx other than the above)
     │    ├── NotFound                the thing asked for does not exist at the vendor
     │    └── NotSupported            this vendor cannot do the capability at all
     ├── IdentityError                the Slack user has no usable vendor identity
     └── WebhookAuthError             a webhook is not from who it claims to be (answer 401)
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError


class PhonebotError(Exception):
    """Base of every error phonebot raises on purpose."""


class VendorError(PhonebotError):
    """A call to a vendor API failed."""

    def __init__(
        self, vendor: str, message: str, *, status_code: int | None = None, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.message = message
        self.status_code = status_code
        #: The vendor's own reason, redacted and bounded: for logs only, never shown to users.
        self.vendor_detail = ""
        #: phonebot's name for the vendor operation that failed (``employee_group.leave``): for logs
        #: only. Users never see operation or endpoint names; ``message`` is plain words.
        self.operation = ""
        #: True when a write reached the vendor but no answer came back: it may have happened.
        self.outcome_unknown = outcome_unknown


class VendorAuthError(VendorError):
    """The vendor refused our credentials: missing, wrong, expired or revoked."""


class VendorRateLimited(VendorError):
    """The vendor answered 429."""

    def __init__(
        self, vendor: str, message: str, *, retry_after: float | None = None, status_code: int | None = 429
    ) -> None:
        super().__init__(vendor, message, status_code=status_code)
        self.retry_after = retry_after


class VendorUnavailable(VendorError):
    """The vendor is down, erroring (5xx) or unreachable."""


class VendorTimeout(VendorUnavailable):
    """The vendor did not answer in time.

    ``outcome_unknown`` is False when the request was never sent (connect or pool timeout)
    or was a read; True when a write was sent and its answer never came.
    """


class VendorRejected(VendorError):
    """The vendor refused the request as invalid (4xx)."""


class NotFound(VendorError):
    """The vendor does not know the resource asked for."""


class NotSupported(VendorError):
    """The vendor (or this adapter) cannot do a capability at all."""

    def __init__(self, vendor: str, capability: str, detail: str = "") -> None:
        text = f"{vendor} does not support {capability}"
        super().__init__(vendor, f"{text}: {detail}" if detail else text)
        self.capability = capability
        self.detail = detail


class IdentityError(PhonebotError):
    """The Slack user cannot be mapped to a usable vendor identity."""


class WebhookAuthError(PhonebotError):
    """A webhook failed authentication (bad signature, stale timestamp, unknown URL token).

    The receiver answers 401 and stores nothing.
    """


def validation_summary(exc: ValidationError) -> str:
    """The first problem pydantic found, as ``field.path: message`` (``body`` for the whole)."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def unreadable_webhook(display_name: str, why: str) -> VendorRejected:
    """The error for a webhook body that cannot be read; the receiver answers it with 400."""
    return VendorRejected(display_name, f"unreadable {display_name} webhook: {why}", status_code=400)


def webhook_json(display_name: str, body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object, else the :func:`unreadable_webhook` error."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise unreadable_webhook(display_name, "the body is not JSON") from exc
    except RecursionError as exc:  # "[[[[…" nested deeper than the parser's stack
        raise unreadable_webhook(display_name, "the body is nested too deeply") from exc
    if not isinstance(raw, dict):
        raise unreadable_webhook(display_name, "the body is not a JSON object")
    return raw
