"""``/presence``: show or set phone presence (activity + end time) in natural language."""

from __future__ import annotations

import json
from datetime import datetime

from adapters.base import VendorAdapter
from adapters.errors import IdentityError, VendorRejected
from adapters.models import Capability, Presence, PresenceChange, VendorIdentity
from handlers.context import Services
from handlers.parsing import (
    NEUTRAL_ACTIVITIES,
    ClearPresence,
    SetPresence,
    ShowPresence,
    UsageError,
    describe_until,
    parse_presence,
)
from handlers.reply import Reply, usage

LABEL_KEY = "presence:label:{vendor}:{user}"


async def presence_command(services: Services, *, user_id: str, text: str) -> Reply:
    """Handle ``/presence <text>`` for Slack user ``user_id``."""
    slack_user = await services.users.get(user_id)
    tz = services.tz_for(slack_user)
    now = services.clock()
    parsed = parse_presence(text, now=now, tz=tz)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, ShowPresence):
        return await _show(services, user_id=user_id, target=parsed.user_id, now=now)
    linked = await services.identities.resolve(user_id)
    adapter, identity = linked.adapter, linked.identity
    adapter.require(Capability.PRESENCE_WRITE)
    key = LABEL_KEY.format(vendor=adapter.name, user=identity.user_id)
    if isinstance(parsed, ClearPresence):
        presence = await adapter.set_presence(identity, PresenceChange(activity="available"))
        await services.store.delete(key)
        state = "available" if presence.available else _describe_state(presence, None)
        return Reply(text=f":white_check_mark: You're {state} again on {adapter.display_name}.")
    assert isinstance(parsed, SetPresence)
    if not adapter.supports(Capability.PRESENCE_ACTIVITIES) and parsed.activity not in NEUTRAL_ACTIVITIES:
        raise VendorRejected(
            adapter.display_name,
            f"\u201c{parsed.label}\u201d isn't an activity I know. Choose one of: "
            + ", ".join(sorted(NEUTRAL_ACTIVITIES)),
        )
    presence = await adapter.set_presence(
        identity, PresenceChange(activity=parsed.activity, until=parsed.until, note=parsed.label)
    )
    label = _display_label(presence, parsed.label)
    ttl = (parsed.until - now).total_seconds() if parsed.until else None
    await services.store.set(
        key, json.dumps({"label": label, "until": parsed.until.isoformat() if parsed.until else None}), ttl=ttl
    )
    until = describe_until(parsed.until, tz, now)
    note = ""
    if not adapter.supports(Capability.PRESENCE_ACTIVITIES):
        note = (
            f" ({adapter.display_name} only knows do-not-disturb, so callers get DND;"
            f" phonebot shows \u201c{label}\u201d)"
        )
    return Reply(text=f":white_check_mark: Your phone presence is now *{label}* {until}{note}.")


async def _show(services: Services, *, user_id: str, target: str | None, now: datetime) -> Reply:
    viewer = await services.users.get(user_id)
    tz = services.tz_for(viewer)
    if target is None or target == user_id:
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
    return Reply(text=f"{subject} *{state}*{tail} on {adapter.display_name}.")


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
    if label:
        return label
    if presence.activity is not None and presence.activity.name:
        return presence.activity.name
    if presence.dnd:
        return "Do not disturb"
    return "Available" if presence.available else "Unavailable"
