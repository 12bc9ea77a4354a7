"""Turn the error tree into plain sentences; nothing technical reaches the user."""

from __future__ import annotations

import logging
import secrets

from slack_sdk.errors import SlackApiError

from adapters.errors import (
    IdentityError,
    NotFound,
    NotSupported,
    PhonebotError,
    VendorAuthError,
    VendorError,
    VendorRateLimited,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from bot.identity import NotLinked
from bot.installs.scope_drift import parse_scopes
from bot.mrkdwn import escape
from handlers.reply import Button, Reply

log = logging.getLogger(__name__)

#: The Link button's action id: a URL button, so the click itself only needs an ack.
LINK_ACTION = "link_account"
#: The Link button of a vendor without OAuth: opens the find-yourself modal (``handlers.linking``).
PICK_SELF_ACTION = "link_directory"


def explain(exc: BaseException) -> Reply:
    """A user-facing reply for any exception a handler let through."""
    if isinstance(exc, NotLinked) and exc.link_url is None:
        return Reply(
            text=f":link: {escape(str(exc))}",
            buttons=[Button("Link your phone account", PICK_SELF_ACTION, exc.workspace or "", style="primary")],
            context=f"You pick yourself from {escape(exc.vendor)}'s directory; a phonebot admin may need to approve.",
        )
    if isinstance(exc, NotLinked):
        return Reply(
            text=f":link: {escape(str(exc))}",
            buttons=[Button(f"Link your {exc.vendor} account", LINK_ACTION, "link", style="primary", url=exc.link_url)],
            context="The link works once, for you only, for 10 minutes.",
        )
    if isinstance(exc, IdentityError):
        return Reply(text=f":link: {exc}")
    if isinstance(exc, NotSupported):
        detail = f" ({exc.detail})" if exc.detail else ""
        return Reply(text=f":no_entry_sign: {exc.vendor} doesn't offer {exc.capability}{detail}, so I can't do that.")
    if isinstance(exc, VendorAuthError):
        return Reply(
            text=f":closed_lock_with_key: {exc.vendor} refused phonebot's credentials. The token may have "
            "been revoked or lack a permission; an admin can run `phonebot check` to see which."
        )
    if isinstance(exc, VendorError) and exc.outcome_unknown:
        # The write went out and no answer came: it may have happened. Never "try again".
        return Reply(
            text=f":hourglass: {exc.vendor} didn't confirm in time, so the change may still have gone through. "
            "I won't retry it; check before you try again."
        )
    if isinstance(exc, VendorRateLimited):
        wait = f" Try again in about {int(exc.retry_after) + 1} s." if exc.retry_after else " Try again shortly."
        return Reply(text=f":hourglass: {exc.vendor} is asking phonebot to slow down.{wait}")
    if isinstance(exc, VendorTimeout):
        return Reply(
            text=f":hourglass: {exc.vendor} didn't answer in time. Nothing was changed that I know of; try again."
        )
    if isinstance(exc, VendorUnavailable):
        return Reply(text=f":warning: {exc.vendor} isn't working right now ({exc.message}). Try again in a minute.")
    if isinstance(exc, NotFound):
        return Reply(text=f":mag: {exc.message}")
    if isinstance(exc, VendorRejected):
        return Reply(text=f":x: {exc.message}")
    if isinstance(exc, VendorError | PhonebotError):
        return Reply(text=f":warning: {exc}")
    if isinstance(exc, SlackApiError) and _slack_error(exc) == "missing_scope":
        needed = ", ".join(f"`{escape(scope)}`" for scope in parse_scopes(exc.response.get("needed"))) or "one"
        return Reply(
            text=f":lock: phonebot's Slack app is missing a permission it needs for this ({needed}), so I couldn't "
            "do it. A workspace admin needs to reinstall phonebot; its App Home says how."
        )
    reference = secrets.token_hex(4)
    log.error("unhandled error in a command (ref %s)", reference, exc_info=exc)
    return Reply(text=f":warning: Something went wrong on phonebot's side. It was logged as `{reference}`.")


def _slack_error(exc: SlackApiError) -> str | None:
    response = exc.response
    error = response.get("error") if response is not None and hasattr(response, "get") else None
    return error if isinstance(error, str) else None
