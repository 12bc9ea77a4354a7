"""A colleague's phone number, found through phonebot's identity mapping (``/call @user``, ``forward to @user``)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.errors import IdentityError
from adapters.models import Capability
from bot.identity import Linked
from handlers.context import Services


@dataclass(frozen=True)
class ColleagueNumber:
    """The colleague's number, or why there is none (a sentence for the user, safe mrkdwn)."""

    number: str | None
    problem: str = ""


async def colleague_number(services: Services, linked: Linked, slack_user_id: str) -> ColleagueNumber:
    """The phone number of Slack user ``slack_user_id``, as seen from ``linked``'s phone system.

    The colleague is resolved like anyone else (config entry, else directory email); their
    number comes from that link, else from ``linked``'s vendor directory when they share it.
    """
    try:
        target = await services.identities.resolve(slack_user_id)
    except IdentityError:
        return ColleagueNumber(
            None, f"<@{slack_user_id}> isn't linked to a phone-system user, so I don't know their number."
        )
    number = target.vendor_user.number if target.vendor_user else None
    if number is None and target.adapter is linked.adapter:
        linked.adapter.require(Capability.DIRECTORY)
        for user in await linked.adapter.list_users(linked.adapter.service_identity()):
            if user.user_id == target.identity.user_id:
                number = user.number
                break
    if not number:
        return ColleagueNumber(
            None, f"I couldn't find a phone number for <@{slack_user_id}> in {target.adapter.display_name}."
        )
    return ColleagueNumber(number)
