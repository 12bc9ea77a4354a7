"""``/presence``: show or set phone presence (activity + end time) in natural language.

When the vendor doesn't confirm a change in time, the presence is read back once and the
user is told what the phone really shows; phonebot's own label (Relatel keeps only DND) is
kept only when the read-back shows the change landed.

``/presence forward to <number | @user> [until …]`` forwards the user's calls where the vendor
offers it (:attr:`~adapters.models.Capability.CALL_FORWARD`); ``/presence`` shows an active
forwarding and ``/presence available`` ends it.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.base import VendorAdapter
from adapters.errors import IdentityError, VendorError, VendorRejected, VendorTimeout
from adapters.models import Capability, Presence, PresenceChange, VendorIdentity
from bot.identity import Linked
from bot.mrkdwn import escape
from handlers.colleagues import colleague_number
from handlers.context import Services
from handlers.parsing import (
    NEUTRAL_ACTIVITIES,
    ClearPresence,
    ForwardCalls,
    SetPresence,
    ShowPresence,
    UsageError,
    describe_until,
    format_display,
    parse_presence,
)
from handlers.reply import Reply, usage
from handlers.slack_status import phone_presence_written, presence_cleared_note, presence_set_note

LABEL_KEY = "presence:label:{vendor}:{user}"
#: A read-back end time this close to the one asked for counts as the same (vendors round).
SAME_END_SECONDS = 60


async def presence_command(services: Services, *, user_id: str, text: str) -> Reply:
    """Handle ``/presence <text>`` for Slack user ``user_id``."""
    slack_user = await services.users.get(user_id)
    tz = services.tz_for(slack_user)
    now = services.clock()
    parsed = parse_presence(text, now=now, tz=tz, default_country=services.config.default_country)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, ShowPresence):
        return await _show(services, user_id=user_id, target=parsed.user_id, now=now)
    linked = await services.identities.resolve(user_id)
    adapter, identity = linked.adapter, linked.identity
    if isinstance(parsed, ForwardCalls):
        return await _forward(services, linked, parsed, user_id=user_id, tz=tz, now=now)
    adapter.require(Capability.PRESENCE_WRITE)
    key = LABEL_KEY.format(vendor=adapter.name, user=identity.user_id)
    if isinstance(parsed, ClearPresence):
        change = PresenceChange(activity="available")
        presence, unconfirmed = await _write(adapter, identity, change)
        if unconfirmed is not None and not _landed(presence, change):
            return await _not_landed(services, adapter, identity, presence, unconfirmed, tz=tz, now=now)
        await services.store.delete(key)
        await phone_presence_written(services, user_id, presence)
        state = "available" if presence.available else _describe_state(presence, None)
        still = await _still_forwarding(services, adapter, identity)
        still += await presence_cleared_note(services, user_id, now=now)
        if unconfirmed is not None:
            return Reply(
                text=f":white_check_mark: {adapter.display_name} didn't confirm in time, "
                f"but your phone now shows you {state} again.{still}"
            )
        return Reply(text=f":white_check_mark: You're {state} again on {adapter.display_name}.{still}")
    assert isinstance(parsed, SetPresence)
    if not adapter.supports(Capability.PRESENCE_ACTIVITIES) and parsed.activity not in NEUTRAL_ACTIVITIES:
        raise VendorRejected(
            adapter.display_name,
            f"\u201c{escape(parsed.label)}\u201d isn't an activity I know. Choose one of: "
            + ", ".join(sorted(NEUTRAL_ACTIVITIES)),
        )
    change = PresenceChange(activity=parsed.activity, until=parsed.until, note=parsed.label)
    presence, unconfirmed = await _write(adapter, identity, change)
    if unconfirmed is not None and not _landed(presence, change):
        return await _not_landed(services, adapter, identity, presence, unconfirmed, tz=tz, now=now)
    await phone_presence_written(services, user_id, presence)
    label = _display_label(presence, parsed.label)
    ttl = (parsed.until - now).total_seconds() if parsed.until else None
    await services.store.set(
        key, json.dumps({"label": label, "until": parsed.until.isoformat() if parsed.until else None}), ttl=ttl
    )
    note = ""
    if not adapter.supports(Capability.PRESENCE_ACTIVITIES):
        note = (
            f" ({adapter.display_name} only knows do-not-disturb, so callers get DND;"
            f" phonebot shows \u201c{label}\u201d)"
        )
    slack = await presence_set_note(
        services, user_id, activity=parsed.activity, label=parsed.label, until=parsed.until, now=now
    )
    if unconfirmed is not None:
        until = describe_until(presence.until, tz, now)
        return Reply(
            text=f":white_check_mark: {adapter.display_name} didn't confirm in time, "
            f"but your phone now shows *{label}* {until}{note}.{slack}"
        )
    until = describe_until(parsed.until, tz, now)
    return Reply(text=f":white_check_mark: Your phone presence is now *{label}* {until}{note}.{slack}")


async def _forward(
    services: Services, linked: Linked, parsed: ForwardCalls, *, user_id: str, tz: ZoneInfo, now: datetime
) -> Reply:
    """Forward the user's calls to a number or a colleague, where the vendor offers it."""
    adapter, identity = linked.adapter, linked.identity
    if not adapter.supports(Capability.CALL_FORWARD):
        return Reply(
            text=f":no_entry_sign: Call forwarding isn't available on {adapter.display_name} through phonebot, "
            f"so I can't forward your calls from Slack. {adapter.display_name}'s own app may offer it."
        )
    if parsed.user_id is not None:
        if parsed.user_id == user_id:
            return usage("Your calls already reach you; forward them to someone else.", "/presence forward to @alice")
        found = await colleague_number(services, linked, parsed.user_id)
        if found.number is None:
            return Reply(text=found.problem)
        number = found.number
        who = f"<@{parsed.user_id}> ({format_display(number, services.config.default_country)})"
    else:
        assert parsed.number is not None
        number = parsed.number
        who = escape(parsed.display or number)
    presence = await adapter.set_forwarding(identity, number, until=parsed.until)
    await services.store.delete(LABEL_KEY.format(vendor=adapter.name, user=identity.user_id))
    state = _describe_state(presence, None)
    if parsed.until is not None:
        return Reply(
            text=f":arrow_right_hook: Your calls now forward to {who} {describe_until(parsed.until, tz, now)}, "
            f"and {adapter.display_name} shows you *{state}* until then. `/presence available` ends both sooner."
        )
    return Reply(
        text=f":arrow_right_hook: Your calls now forward to {who}, and {adapter.display_name} shows you *{state}* "
        "with no end time. `/presence available` ends both."
    )


async def _forwarding(services: Services, adapter: VendorAdapter, identity: VendorIdentity) -> str | None:
    """Where the user's calls are forwarded now, as people write it; ``None`` when not, or unknown."""
    if not adapter.supports(Capability.CALL_FORWARD):
        return None
    try:
        number = await adapter.get_forwarding(identity)
    except VendorError:
        return None  # the presence answer stands without it
    return format_display(number, services.config.default_country) if number else None


async def _still_forwarding(services: Services, adapter: VendorAdapter, identity: VendorIdentity) -> str:
    number = await _forwarding(services, adapter, identity)
    if number is None:
        return ""
    return (
        f" Your calls still forward to {escape(number)}: that forwarding wasn't tied to your presence, "
        f"so end it in {adapter.display_name}'s own app."
    )


async def _write(
    adapter: VendorAdapter, identity: VendorIdentity, change: PresenceChange
) -> tuple[Presence, VendorError | None]:
    """Set presence and return what the vendor reports, with the write's error if it went unconfirmed.

    A write that timed out (or whose answer was lost) is read back once, so the user hears
    the real state rather than a guess. Any other failure, or a failed read-back, raises.
    """
    try:
        return await adapter.set_presence(identity, change), None
    except VendorError as exc:
        if not (exc.outcome_unknown or isinstance(exc, VendorTimeout)) or not adapter.supports(
            Capability.PRESENCE_READ
        ):
            raise
        unconfirmed = exc
    try:
        presence = await adapter.get_presence(identity)
    except VendorError:
        raise unconfirmed from None
    return presence, unconfirmed


def _landed(presence: Presence, change: PresenceChange) -> bool:
    """Whether the vendor's read-back shows the change asked for (state and end time)."""
    if change.activity == "available":
        return presence.available
    if presence.available:
        return False
    if presence.until is None or change.until is None:
        return presence.until is None and change.until is None
    return abs((presence.until - change.until).total_seconds()) <= SAME_END_SECONDS


async def _not_landed(
    services: Services,
    adapter: VendorAdapter,
    identity: VendorIdentity,
    presence: Presence,
    unconfirmed: VendorError,
    *,
    tz: ZoneInfo,
    now: datetime,
) -> Reply:
    """The vendor didn't confirm and its read-back shows something else: say what it shows."""
    state = _describe_state(presence, await _stored_label(services, adapter, identity, presence))
    until = describe_until(presence.until, tz, now) if (presence.until or not presence.available) else ""
    tail = f" {until}" if until else ""
    advice = (
        " The change may still arrive; check `/presence` in a minute before trying again."
        if unconfirmed.outcome_unknown
        else " Try again."
    )
    return Reply(
        text=f":warning: {adapter.display_name} didn't confirm in time, and your phone shows *{state}*{tail}, "
        f"not what you asked for.{advice}"
    )


async def _show(services: Services, *, user_id: str, target: str | None, now: datetime) -> Reply:
    viewer = await services.users.get(user_id)
    tz = services.tz_for(viewer)
    own = target is None or target == user_id
    if target is None or own:
        linked = await services.identities.resolve(user_id)
        subject = "You are"
    else:
        try:
            linked = await services.identities.resolve(target)
        except IdentityError:
            return Reply(text=f"<@{target}> isn't linked to a phone-system user, so I can't see their presence.")
        subject = f"<@{target}> is"
    adapter = linked.adapter
    adapter.require(Capability.PRESENCE_READ)
    presence = await adapter.get_presence(linked.identity)
    label = await _stored_label(services, adapter, linked.identity, presence)
    state = _describe_state(presence, label)
    until = describe_until(presence.until, tz, now) if (presence.until or not presence.available) else ""
    tail = f" {until}" if until else ""
    forwarded = ""
    if own:  # someone else's forwarding number is theirs to share
        number = await _forwarding(services, adapter, linked.identity)
        forwarded = f" Your calls forward to {escape(number)}." if number else ""
    return Reply(text=f"{subject} *{state}*{tail} on {adapter.display_name}.{forwarded}")


async def _stored_label(
    services: Services, adapter: VendorAdapter, identity: VendorIdentity, presence: Presence
) -> str | None:
    """The label phonebot set, if the vendor still reports that state (Relatel keeps only DND)."""
    if presence.available:
        return None
    raw = await services.store.get(LABEL_KEY.format(vendor=adapter.name, user=identity.user_id))
    if raw is None:
        return None
    return str(json.loads(raw)["label"])


def _display_label(presence: Presence, typed: str) -> str:
    if presence.activity is not None and presence.activity.name:
        return presence.activity.name
    return typed.capitalize()


def _describe_state(presence: Presence, label: str | None) -> str:
    """The presence in words, as safe mrkdwn (labels are the user's, activity names the vendor's)."""
    if label:
        return escape(label)
    if presence.activity is not None and presence.activity.name:
        return escape(presence.activity.name)
    if presence.dnd:
        return "Do not disturb"
    return "Available" if presence.available else "Unavailable"
