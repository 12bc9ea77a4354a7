"""``/call``: click-to-dial. The caller's own phone rings first, then the number.

A dial is never repeated: a button clicked twice rings once (the click is claimed in
:mod:`bot.intents` first), a re-sent ``/call`` request is dropped at the door
(``handlers/bolt.py``), and a dial whose answer never came is reported as such, not retried.
"""

from __future__ import annotations

import re

from adapters.errors import VendorError
from adapters.models import Capability, Contact
from bot import mrkdwn
from bot.identity import Linked
from bot.intents import CLICK_WINDOW_SECONDS, Intents, click_key
from handlers.choices import Choices
from handlers.colleagues import colleague_number
from handlers.context import Services
from handlers.home_state import remember_call
from handlers.parsing import CallContact, CallNumber, CallUser, UsageError, format_display, parse_call
from handlers.reply import MAX_BUTTONS, Button, Reply, usage

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


async def call_pick_action(services: Services, *, user_id: str, value: str, container: str = "") -> Reply:
    """A click on one of the contact buttons: dial it as the clicker (never as the asker).

    ``container`` names the message (or view) the button is on; the same click twice rings once.
    """
    choice = await Choices(services.store, PICK_ACTION).taken(value)
    number = str(choice.get("number", "")) if choice else ""
    name = choice.get("name") if choice and isinstance(choice.get("name"), str) else None
    if not E164.fullmatch(number):
        return Reply(text="Those choices have expired (or weren't mine); run `/call` again.", replace_original=True)
    linked = await services.identities.resolve(user_id)
    linked.adapter.require(Capability.DIAL)
    intent = click_key(user_id=user_id, action=PICK_ACTION, container=container, value=value)
    async with Intents(services.store).once(intent, ttl=CLICK_WINDOW_SECONDS) as first:
        reply = await dial(services, linked, number, name=name) if first else already_calling(services, number, name)
    return Reply(text=reply.text, replace_original=True)


async def dial(services: Services, linked: Linked, e164: str, *, name: str | None = None) -> Reply:
    """Ask the vendor, once, to ring ``linked``'s phone and then ``e164``.

    If the vendor took the request but never answered, the phone may ring anyway: the user
    is told so, and nothing is retried.
    """
    try:
        result = await linked.adapter.dial(linked.identity, e164)
    except VendorError as exc:
        if not exc.outcome_unknown:
            raise
        await _remember(services, linked, e164, name)  # it may have rung: "Call again" is still wanted
        return Reply(
            text=f":hourglass: {exc.vendor} didn't confirm the call to {_who(services, e164, name)} in time "
            "\u2014 your phone may still ring. I won't retry, so it can't ring twice; "
            "if nothing rings within a minute, try again."
        )
    await _remember(services, linked, e164, name)
    device = f"{mrkdwn.escape(result.rings)} rings" if result.rings else "own phone rings"
    return Reply(
        text=f":telephone_receiver: Calling {_who(services, e164, name)}. Your {device} first "
        f"({linked.adapter.display_name}); pick up and you'll be connected."
    )


async def _remember(services: Services, linked: Linked, e164: str, name: str | None) -> None:
    """Keep the call for the caller's App Home (**Call again**)."""
    shown = _who(services, e164, name)
    await remember_call(services.store, linked.slack_user_id, number=e164, shown=shown, name=name)


def already_calling(services: Services, e164: str, name: str | None = None) -> Reply:
    """The answer to a repeated click on a button whose call is already placed."""
    return Reply(
        text=f":telephone_receiver: I'm already calling {_who(services, e164, name)} for you "
        "\u2014 that click was a repeat, so your phone rings just once."
    )


def _who(services: Services, e164: str, name: str | None) -> str:
    shown = format_display(e164, services.config.default_country)
    return f"{mrkdwn.name(name)} ({shown})" if name else shown


async def _call_colleague(services: Services, linked: Linked, target_id: str) -> Reply:
    found = await colleague_number(services, linked, target_id)
    if found.number is None:
        return Reply(text=found.problem)
    return await dial(services, linked, found.number, name=f"<@{target_id}>")


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
        buttons=[await _pick_button(services, contact) for contact in contacts[:MAX_BUTTONS]],
        context="Your own phone rings first, then the contact."
        if len(contacts) <= 10
        else f"Showing the first 10 of {len(contacts)} matches; type more of the name to narrow it down.",
    )


async def _pick_button(services: Services, contact: Contact) -> Button:
    assert contact.number is not None
    shown = format_display(contact.number, services.config.default_country)
    token = await Choices(services.store, PICK_ACTION).offer({"number": contact.number, "name": contact.name[:200]})
    return Button(label=f"{contact.name} · {shown}", action_id=f"{PICK_ACTION}:{token}", value=token)
