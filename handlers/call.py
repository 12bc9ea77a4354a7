"""``/call``: click-to-dial. The caller's own phone rings first, then the number."""

from __future__ import annotations

import json
import re

from adapters.errors import IdentityError
from adapters.models import Capability, Contact
from bot.identity import Linked
from handlers.context import Services
from handlers.parsing import CallContact, CallNumber, CallUser, UsageError, format_display, parse_call
from handlers.reply import Button, Reply, usage

PICK_ACTION = "call_pick"
E164 = re.compile(r"\+[1-9]\d{3,14}")


async def call_command(services: Services, *, user_id: str, text: str) -> Reply:
    """Handle ``/call <number | name | @user>``."""
    parsed = parse_call(text, default_country=services.config.default_country)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    linked = await services.identities.resolve(user_id)
    linked.adapter.require(Capability.DIAL)
    if isinstance(parsed, CallNumber):
        return await dial(services, linked, parsed.e164)
    if isinstance(parsed, CallUser):
        return await _call_colleague(services, linked, parsed.user_id)
    assert isinstance(parsed, CallContact)
    return await _call_contact(services, linked, parsed.query)


async def call_pick_action(services: Services, *, user_id: str, value: str) -> Reply:
    """A click on one of the contact buttons: dial it as the clicker (never as the asker)."""
    try:
        choice = json.loads(value)
        number, name = str(choice["number"]), choice.get("name")
    except (ValueError, KeyError, TypeError):
        number, name = value, None
    if not E164.fullmatch(number):
        return Reply(text="That button no longer holds a phone number; run `/call` again.", replace_original=True)
    linked = await services.identities.resolve(user_id)
    linked.adapter.require(Capability.DIAL)
    reply = await dial(services, linked, number, name=name)
    return Reply(text=reply.text, replace_original=True)


async def dial(services: Services, linked: Linked, e164: str, *, name: str | None = None) -> Reply:
    """Ask the vendor to ring ``linked``'s phone and then ``e164``."""
    await linked.adapter.dial(linked.identity, e164)
    shown = format_display(e164, services.config.default_country)
    who = f"{name} ({shown})" if name else shown
    return Reply(
        text=f":telephone_receiver: Calling {who}. Your own phone rings first "
        f"({linked.adapter.display_name}); pick up and you'll be connected."
    )


async def _call_colleague(services: Services, linked: Linked, target_id: str) -> Reply:
    try:
        target = await services.identities.resolve(target_id)
    except IdentityError:
        return Reply(text=f"<@{target_id}> isn't linked to a phone-system user, so I don't know their number.")
    number = target.vendor_user.number if target.vendor_user else None
    if number is None and target.adapter is linked.adapter:
        linked.adapter.require(Capability.DIRECTORY)
        for user in await linked.adapter.list_users(linked.adapter.service_identity()):
            if user.user_id == target.identity.user_id:
                number = user.number
                break
    if not number:
        return Reply(text=f"I couldn't find a phone number for <@{target_id}> in {target.adapter.display_name}.")
    return await dial(services, linked, number, name=f"<@{target_id}>")


async def _call_contact(services: Services, linked: Linked, query: str) -> Reply:
    linked.adapter.require(Capability.CONTACT_SEARCH)
    contacts = [c for c in await linked.adapter.search_contacts(linked.identity, query) if c.number]
    if not contacts:
        return usage(
            f"No contact with a phone number matches \u201c{query}\u201d in {linked.adapter.display_name}.",
            "/call +4571999999",
        )
    if len(contacts) == 1:
        contact = contacts[0]
        assert contact.number is not None
        return await dial(services, linked, contact.number, name=contact.name)
    return Reply(
        text=f"Several contacts match \u201c{query}\u201d. Which one should I call?",
        buttons=[_pick_button(services, contact) for contact in contacts],
        context="Your own phone rings first, then the contact."
        if len(contacts) <= 10
        else f"Showing the first 10 of {len(contacts)} matches; type more of the name to narrow it down.",
    )


def _pick_button(services: Services, contact: Contact) -> Button:
    assert contact.number is not None
    shown = format_display(contact.number, services.config.default_country)
    return Button(
        label=f"{contact.name} · {shown}",
        action_id=f"{PICK_ACTION}:{contact.number}",
        value=json.dumps({"number": contact.number, "name": contact.name[:200]}),
    )
