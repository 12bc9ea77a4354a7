"""Help texts (Slack mrkdwn) for every slash command, shown by ``/phonebot help [topic]``."""

from __future__ import annotations

__all__ = ["HELP", "help_text"]

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
Activities everyone has: available, lunch, meeting, away, out, vacation, dnd, busy, sick; \
your phone system may offer more. Times are in your Slack time zone, up to 90 days ahead. \
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
Queue names match on any part of the name, case doesn't matter."""

_PHONEBOT = """\
*`/phonebot`* is about phonebot itself.
• `/phonebot help` lists the commands; `/phonebot help presence` (or `call`, `queue`) explains one.
• `/phonebot whoami` (or `me`) shows which phone-system user you are and what your phone system \
lets phonebot do."""

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


def help_text(topic: str | None) -> str:
    """The help for ``topic`` (``"presence"`` or ``"/presence"``), or the overview for ``None``/unknown."""
    if topic is None:
        return _OVERVIEW
    return HELP.get(topic.strip().lstrip("/").lower(), _OVERVIEW)
