"""``/phonebot help | whoami | dead | replay``."""

from __future__ import annotations

from adapters.errors import PhonebotError, VendorError
from adapters.models import CAPABILITY_LABELS, Capability
from bot.mrkdwn import escape
from handlers.context import Services
from handlers.dead_letters import dead_letters_command, replay_command
from handlers.parsing import (
    DeadLetters,
    Help,
    Replay,
    UsageError,
    WhoAmI,
    activities_sentence,
    help_text,
    help_topic,
    parse_phonebot,
)
from handlers.reply import Button, Reply, usage


async def phonebot_command(services: Services, *, user_id: str, text: str) -> Reply:
    """Handle ``/phonebot <help [topic] | whoami | dead | replay <id…|all>>``."""
    parsed = parse_phonebot(text)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, Help):
        if help_topic(parsed.topic) == "presence":
            return Reply(text=help_text("presence", activities=await _own_activities(services, user_id=user_id)))
        return Reply(text=help_text(parsed.topic))
    if isinstance(parsed, DeadLetters):
        return await dead_letters_command(services, user_id=user_id)
    if isinstance(parsed, Replay):
        return await replay_command(services, user_id=user_id, ids=parsed.ids, every=parsed.every)
    assert isinstance(parsed, WhoAmI)
    return await whoami(services, user_id=user_id)


async def _own_activities(services: Services, *, user_id: str) -> str | None:
    """The presence help's sentence on the activities of the user's own vendor; ``None`` when not linked."""
    try:
        linked = await services.identities.resolve(user_id)
    except PhonebotError:
        return None
    adapter = linked.adapter
    if not adapter.supports(Capability.PRESENCE_ACTIVITIES):
        return activities_sentence(
            adapter.display_name, settable=adapter.supports(Capability.PRESENCE_WRITE), named=None
        )
    try:
        named = [activity.name for activity in await adapter.list_activities(linked.identity)]
    except VendorError:
        return None
    return activities_sentence(adapter.display_name, settable=adapter.supports(Capability.PRESENCE_WRITE), named=named)


#: How a user was linked, as ``whoami`` and the App Home say it.
HOW_LINKED = {
    "config": "linked in the phonebot config",
    "email": "matched by your Slack email",
    "oauth": "you linked your own {vendor} account",
    "directory": "you picked yourself from {vendor}'s directory",
    "admin": "linked by a phonebot admin",
}


#: Links a user made themselves, and may undo themselves.
SELF_SERVICE = ("oauth", "directory")
UNLINK_ACTION = "link_unlink"


async def whoami(services: Services, *, user_id: str) -> Reply:
    """The linked vendor identity and what that vendor lets phonebot do."""
    linked = await services.identities.resolve(user_id)
    identity = linked.identity
    name = identity.display_name or (linked.vendor_user.name if linked.vendor_user else None)
    parts = [f"user *{escape(identity.user_id)}*"]
    if name:
        parts.append(escape(name))
    if identity.email:
        parts.append(escape(identity.email))
    how = HOW_LINKED[linked.how].format(vendor=linked.adapter.display_name)
    token = " with your own token" if identity.token else ""
    can = ", ".join(CAPABILITY_LABELS[c] for c in Capability if c in linked.adapter.capabilities)
    cannot = ", ".join(CAPABILITY_LABELS[c] for c in Capability if c not in linked.adapter.capabilities)
    context = f"{linked.adapter.display_name} offers: {can}." + (f" Not offered: {cannot}." if cannot else "")
    own = linked.how in SELF_SERVICE
    return Reply(
        text=f"You are {linked.adapter.display_name} {', '.join(parts)} ({how}{token}).",
        context=context,
        buttons=[Button("Unlink", UNLINK_ACTION, "unlink", style="danger")] if own else (),
    )


async def unlink_action(services: Services, *, user_id: str) -> Reply:
    """The clicker's own **Unlink**: forget their account link (and its token) in this workspace."""
    links, prefix = services.identities.links, services.identities.key_prefix
    removed = links is not None and bool(prefix) and await links.remove(prefix, user_id)
    if not removed:
        return Reply(text="You weren't linked by an account link here, so there was nothing to unlink.")
    return Reply(
        text=":broken_chain: Unlinked. phonebot no longer keeps your phone-system account or its token; "
        "the next command offers to link again.",
        replace_original=True,
    )
