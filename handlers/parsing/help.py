"""Help texts (Slack mrkdwn) for every slash command, shown by ``/phonebot help [topic]``."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["HELP", "activities_sentence", "help_text", "help_topic"]

_NAMED = "available, lunch, meeting, away, out, vacation, dnd, busy, sick"
_ACTIVITIES_PLACEHOLDER = "{activities}"
_GENERIC_ACTIVITIES = (
    f"Activities: {_NAMED}, as far as your phone system has them (some have only do-not-disturb); "
    "once you're linked, this help lists yours."
)

_PRESENCE = """\
*`/presence`* shows or sets your phone presence, so callers and colleagues know where you are.
• `/presence` shows yours; `/presence @alice` shows Alice's.
• `/presence lunch 45m`, `/presence lunch 45 min`, `/presence lunch for an hour`
• `/presence meeting for 1h30`, `/presence meeting 1h 30m`, `/presence meeting 1.5h`
• `/presence busy for 90 minutes`, `/presence dnd 2 hours`, `/presence vacation 2 weeks`
• `/presence away until 14:00`, `/presence meeting until 2:30pm`, `/presence out until tomorrow 9am`
• `/presence vacation until friday`, `/presence sick until monday`, `/presence vacation until 1 dec` (or `1.12.`): \
a day without a time means you're back at the start of that working day.
• `/presence dnd` sets it with no end time.
• `/presence back` (or `available`, `clear`, `online`) makes you available again.
{activities} Times are in your Slack time zone, up to 90 days ahead. \
A time that has passed today means tomorrow (`until 8:00` at 10:00)."""

_CALL = """\
*`/call`* rings your own phone first, then connects you to the number you asked for.
• `/call +45 71 99 99 99`, `/call 004571999999`, `/call (+45) 7199-9999`, `/call +1 (415) 555-2671`
• `/call 71999999`: numbers without a country code are read in the company's default country.
• `/call @alice` calls a colleague.
• `/call Acme` or `/call jens jensen` searches your phone system's contacts; \
if several match, you pick one."""

_QUEUE = """\
*`/queue`* shows your call queues and logs you in or out of them.
• `/queue` or `/queue status` shows every queue you're in; `/queue status customer support` shows one.
• `/queue login` / `/queue in` logs you in; `/queue login customer support` picks the queue.
• `/queue logout` / `/queue out` logs you out; `/queue logout sales` picks the queue.
Queue names match on any part of the name, case doesn't matter.
Phonebot admins can act on someone else's queues: `/queue login @alice sales`, `/queue logout @alice`, \
`/queue status @alice` (or `/queue @alice`)."""

_PHONEBOT = """\
*`/phonebot`* is about phonebot itself.
• `/phonebot help` lists the commands; `/phonebot help presence` (or `call`, `queue`) explains one.
• `/phonebot whoami` (or `me`) shows which phone-system user you are and what your phone system \
lets phonebot do.
• Phonebot admins: `/phonebot dead` lists the alerts Slack never accepted; `/phonebot replay <id>` \
(or `all`) sends them again."""

_OVERVIEW = """\
*phonebot* puts your phone system into Slack:
• `/presence lunch 45m` sets your phone presence; `/presence back` clears it; `/presence @alice` shows hers.
• `/call +45 71 99 99 99`, `/call @alice` or `/call Acme` rings your phone, then theirs.
• `/queue` shows your call queues; `/queue login sales` / `/queue logout sales` logs you in or out.
• `/phonebot whoami` shows which phone-system user you are.
More on one command: `/phonebot help presence`, `/phonebot help call`, `/phonebot help queue`."""

HELP: dict[str, str] = {
    "presence": _PRESENCE,
    "call": _CALL,
    "queue": _QUEUE,
    "phonebot": _PHONEBOT,
}
"""Per-command help, keyed by command name without the slash."""


def help_topic(topic: str | None) -> str | None:
    """The ``HELP`` key ``topic`` names (``" /Presence "`` -> ``"presence"``), or ``None`` for the overview."""
    if topic is None:
        return None
    key = topic.strip().lstrip("/").lower()
    return key if key in HELP else None


def help_text(topic: str | None, *, activities: str | None = None) -> str:
    """The help for ``topic`` (``"presence"`` or ``"/presence"``), or the overview for ``None``/unknown.

    ``activities``: the presence help's sentence on activities for the user's own vendor (see
    :func:`activities_sentence`); without it the sentence is the generic one.
    """
    key = help_topic(topic)
    if key is None:
        return _OVERVIEW
    return HELP[key].replace(_ACTIVITIES_PLACEHOLDER, activities or _GENERIC_ACTIVITIES)


def activities_sentence(vendor: str, *, settable: bool, named: Sequence[str] | None) -> str:
    """What the presence help says about activities on ``vendor`` (its display name).

    Args:
        settable: the vendor lets phonebot set presence at all.
        named: the user's own activity names on a vendor with named activities; ``None`` for a
            vendor that has only do-not-disturb.
    """
    if not settable:
        return f"{vendor} has no phone presence that phonebot can set."
    if named is None:
        return (
            f"Activities on {vendor}: *dnd* only. {vendor} knows just do-not-disturb, so lunch, meeting, away, "
            "out, vacation, busy and sick set DND too, and phonebot shows the word you typed."
        )
    if not named:
        return f"Your {vendor} activity list is empty, so there is nothing to set."
    return f"Your activities on {vendor}: {', '.join(named)}."
