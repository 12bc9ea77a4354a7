"""``/phonebot dead`` and ``/phonebot replay``: the alerts Slack never accepted, seen and sent again from Slack.

Admins only (``bot.permissions``); it is the same dead-letter list as ``phonebot alerts dead``
and a replay does what ``--replay`` does: the parked alert goes round the pipeline again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.alerts.queue import AlertQueue, DeadLetter
from bot.mrkdwn import code_span, escape
from handlers.context import Services
from handlers.reply import Reply

log = logging.getLogger(__name__)

#: Dead letters listed in one reply (a message holds 3,000 characters); the rest are counted.
SHOWN = 15
NOT_HERE = (
    "The alert pipeline doesn't run here, so there are no dead letters to show; "
    "`phonebot alerts dead` reads them where phonebot serves."
)
HOW_TO_REPLAY = (
    "Replay with `/phonebot replay <id>` (several ids at once) or `/phonebot replay all`. "
    "Alerts parked only because Slack was unavailable are replayed by themselves once it answers again."
)


async def dead_letters_command(services: Services, *, user_id: str) -> Reply:
    """List the dead letters, oldest first, each with its id, time, subject and reason."""
    allowed = services.permissions.replay_dead_letters(user_id)
    if not allowed:
        return Reply(text=allowed.reason)
    if services.alert_queue is None:
        return Reply(text=NOT_HERE)
    letters = await services.alert_queue.dead_letters()
    if not letters:
        return Reply(text=":white_check_mark: No dead letters: Slack accepted every alert.")
    tz = services.tz_for(await services.users.get(user_id))
    lines = [_line(letter, tz) for letter in letters[:SHOWN]]
    if len(letters) > SHOWN:
        lines.append(f"…and {len(letters) - SHOWN} more (`phonebot alerts dead` lists every one).")
    title = f"*{len(letters)} alert{'s' if len(letters) != 1 else ''} Slack never accepted*, oldest first:"
    return Reply(text="\n".join([title, *lines]), context=HOW_TO_REPLAY)


async def replay_command(services: Services, *, user_id: str, ids: tuple[str, ...], every: bool) -> Reply:
    """Send the named dead letters (or all of them) through the pipeline again."""
    allowed = services.permissions.replay_dead_letters(user_id)
    if not allowed:
        return Reply(text=allowed.reason)
    if services.alert_queue is None:
        return Reply(text=NOT_HERE)
    letters = await services.alert_queue.dead_letters()
    if every and not letters:
        return Reply(text=":white_check_mark: No dead letters to replay: Slack accepted every alert.")
    known = {letter.id for letter in letters}
    wanted = [letter.id for letter in letters] if every else list(ids)
    replayed, unplayable = await _replay(services.alert_queue, [i for i in wanted if i in known])
    missing = [i for i in wanted if i not in known]
    log.info(
        "dead letters replayed from Slack",
        extra={"actor": user_id, "replayed": len(replayed), "unplayable": len(unplayable), "missing": len(missing)},
    )
    parts = []
    if replayed:
        parts.append(
            f":repeat: Replaying {len(replayed)} alert{'s' if len(replayed) != 1 else ''} ({_ids(replayed)}); "
            "they go to their channels shortly."
        )
    if unplayable:
        parts.append(
            f"{_ids(unplayable)} can't be replayed: there is no alert in it (an entry phonebot couldn't read)."
        )
    if missing:
        parts.append(f"No dead letter {_ids(missing)} (already replayed?). `/phonebot dead` lists those there are.")
    return Reply(text="\n".join(parts))


async def _replay(queue: AlertQueue, ids: list[str]) -> tuple[list[str], list[str]]:
    replayed: list[str] = []
    unplayable: list[str] = []
    for entry_id in ids:
        (replayed if await queue.replay(entry_id) else unplayable).append(entry_id)
    return replayed, unplayable


def _line(letter: DeadLetter, tz: ZoneInfo) -> str:
    when = datetime.fromtimestamp(letter.parked_at, tz).strftime("%d %b %H:%M") if letter.parked_at else "?"
    what = letter.event.kind.value.replace("_", " ").replace(".", " ") if letter.event else "re-sync"
    subject = escape(letter.subject_key[:80])
    reason = escape(letter.reason[:160])
    return f"• {code_span(letter.id)} · {when} · {what} · {subject} · {reason}"


def _ids(ids: list[str], *, shown: int = 10) -> str:
    listed = ", ".join(code_span(entry_id) for entry_id in ids[:shown])
    return listed + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
