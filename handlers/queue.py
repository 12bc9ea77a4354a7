"""``/queue``: queue status and ACD agent login/logout.

Everyone acts on their own phone identity, on the queues their phone system lists for them.
``@person`` acts on that person's queues instead, which only phonebot admins may do
(``bot.permissions``); the check is made again when a queue button is clicked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.errors import IdentityError
from adapters.models import Capability, QueueStatus
from bot.identity import Linked
from bot.mrkdwn import escape, mention
from handlers.choices import Choices
from handlers.context import Services
from handlers.parsing import QueueHelp, QueueLoginCmd, QueueStatusCmd, UsageError, help_text, parse_queue
from handlers.parsing.common import quote
from handlers.reply import MAX_BUTTONS, Button, Reply, usage

LOGIN_PICK_ACTION = "queue_login_pick"
EXPIRED_PICK = "Those choices have expired (or weren't offered to you); run `/queue login` again."

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Whose:
    """Whose queues a command acts on, and how its replies name them."""

    user_id: str
    #: Someone other than the person who typed the command (an admin acting for them).
    other: bool = False

    @property
    def you(self) -> str:
        return mention(self.user_id) if self.other else "you"

    @property
    def you_are(self) -> str:
        return f"{mention(self.user_id)} is" if self.other else "You're"

    @property
    def your(self) -> str:
        return "their" if self.other else "your"


async def queue_command(services: Services, *, user_id: str, text: str) -> Reply:
    """Handle ``/queue [status|login|logout] [@person] [group]``."""
    parsed = parse_queue(text)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, QueueHelp):
        return Reply(text=help_text("queue"))
    found = await _linked_for(services, user_id, parsed.user)
    if isinstance(found, Reply):
        return found
    linked, whose = found
    if isinstance(parsed, QueueStatusCmd):
        return await _status(linked, whose, parsed.group)
    assert isinstance(parsed, QueueLoginCmd)
    return await _login(services, linked, whose, parsed.group, login=parsed.login, actor=user_id)


async def queue_login_pick_action(services: Services, *, user_id: str, value: str) -> Reply:
    """A click on a group button offered when several groups could be meant (only what was offered, to whom)."""
    choice = await Choices(services.store, LOGIN_PICK_ACTION).taken(value) or {}
    group_id, login, name = choice.get("group_id"), choice.get("login"), choice.get("name")
    offered_to, target = choice.get("offered_to"), choice.get("for")
    if (
        not isinstance(group_id, str)
        or not isinstance(login, bool)  # JSON true/false only: the string "false" is not true
        or not isinstance(name, str)
        or offered_to != user_id
        or not (target is None or isinstance(target, str))
    ):
        return Reply(text=EXPIRED_PICK, replace_original=True)
    found = await _linked_for(services, user_id, target)  # an admin's rights are checked again at the click
    if isinstance(found, Reply):
        return Reply(text=found.text, replace_original=True)
    linked, whose = found
    linked.adapter.require(Capability.QUEUE_LOGIN)
    await linked.adapter.queue_login(linked.identity, group_id, logged_in=login)
    _log_for_other(user_id, whose, login=login)
    verb = "in to" if login else "out of"
    return Reply(text=f":white_check_mark: {whose.you_are} logged {verb} *{escape(name)}*.", replace_original=True)


async def _linked_for(services: Services, user_id: str, target: str | None) -> tuple[Linked, Whose] | Reply:
    """The identity to act on: the caller's own, or (an admin only) ``target``'s; else a kind refusal."""
    if target is None or target == user_id:
        return await services.identities.resolve(user_id), Whose(user_id)
    allowed = services.permissions.act_for(user_id, target)
    if not allowed:
        return Reply(text=allowed.reason)
    try:
        linked = await services.identities.resolve(target)
    except IdentityError:
        return Reply(
            text=f":link: I don't know which phone-system user {mention(target)} is, so I can't act on their "
            "queues. Link them under `users:` in the phonebot config (their Slack id or email, and their "
            "phone-system user), or make sure their Slack email is the one in the phone system's directory."
        )
    return linked, Whose(target, other=True)


def _log_for_other(actor: str, whose: Whose, *, login: bool) -> None:
    if whose.other:
        log.info(
            "an admin changed another person's queue login",
            extra={"actor": actor, "agent": whose.user_id, "login": login},
        )


async def _login_button(
    services: Services, queue: QueueStatus, shown: str, whose: Whose, *, login: bool, actor: str
) -> Button:
    choice = {
        "group_id": queue.group_id,
        "login": login,
        "name": shown[:200],
        "offered_to": actor,
        "for": whose.user_id if whose.other else None,
    }
    token = await Choices(services.store, LOGIN_PICK_ACTION).offer(choice)
    return Button(label=shown, action_id=f"{LOGIN_PICK_ACTION}:{token}", value=token)


async def _status(linked: Linked, whose: Whose, group: str | None) -> Reply:
    linked.adapter.require(Capability.QUEUE_STATUS)
    queues = await linked.adapter.queue_status(linked.identity)
    if not queues:
        isnt = f"{mention(whose.user_id)} isn't" if whose.other else "You aren't"
        return Reply(text=f"{isnt} in any queue on {linked.adapter.display_name}.")
    names = queue_names(queues)
    if group is not None:
        matches = match_groups(queues, group)
        if not matches:
            return _no_such_group(group, queues, whose)
        queues = matches
    lines = [format_queue(queue, who=whose.you, name=names[queue.group_id]) for queue in queues]
    return Reply(text="\n".join(lines), context=f"Queue status from {linked.adapter.display_name}")


async def _login(
    services: Services, linked: Linked, whose: Whose, group: str | None, *, login: bool, actor: str
) -> Reply:
    linked.adapter.require(Capability.QUEUE_LOGIN)
    everything = await linked.adapter.queue_status(linked.identity)
    names = queue_names(everything)
    queues = [q for q in everything if q.me_logged_in is not None]
    verb = "in to" if login else "out of"
    if not queues:
        has = f"{mention(whose.user_id)} has" if whose.other else "You have"
        return Reply(text=f"{has} no queues on {linked.adapter.display_name} that I can log {whose.you} {verb}.")
    if group is not None:
        candidates = match_groups(queues, group)
        if not candidates:
            return _no_such_group(group, queues, whose)
    else:
        # No group named: only the queues where this would change something.
        candidates = [q for q in queues if q.me_logged_in != login]
        if not candidates:
            shown_all = _names(queues, names)
            return Reply(text=f"{whose.you_are} already logged {verb} all {whose.your} queues: {shown_all}.")
    if len(candidates) > 1:
        return Reply(
            text=f"Which queue should I log {whose.you} {verb}?",
            buttons=[
                await _login_button(services, queue, names[queue.group_id], whose, login=login, actor=actor)
                for queue in candidates[:MAX_BUTTONS]
            ],
        )
    queue = candidates[0]
    shown = escape(names[queue.group_id])
    if queue.me_logged_in == login:
        return Reply(text=f"{whose.you_are} already logged {verb} *{shown}*.")
    await linked.adapter.queue_login(linked.identity, queue.group_id, logged_in=login)
    _log_for_other(actor, whose, login=login)
    return Reply(text=f":white_check_mark: {whose.you_are} logged {verb} *{shown}*.")


def queue_names(queues: list[QueueStatus]) -> dict[str, str]:
    """Each queue's name as replies show it: with its id after it when another queue has the same name.

    A Relatel reception and an employee group may both be called "Support"; ``Support (reception:10)``
    and ``Support (group:5)`` tell them apart in every line, button and confirmation, and the id is
    what ``/queue login <id>`` matches exactly.
    """
    seen: dict[str, int] = {}
    for queue in queues:
        key = queue.name.strip().casefold()
        seen[key] = seen.get(key, 0) + 1
    return {
        queue.group_id: f"{queue.name.strip()} ({queue.group_id})"
        if seen[queue.name.strip().casefold()] > 1
        else queue.name
        for queue in queues
    }


def match_groups(queues: list[QueueStatus], wanted: str) -> list[QueueStatus]:
    """Exact id or name first, then case-insensitive substring of the name."""
    needle = wanted.strip().lower()
    exact = [q for q in queues if q.group_id.lower() == needle or q.name.lower() == needle]
    if exact:
        return exact
    return [q for q in queues if needle in q.name.lower()]


def _names(queues: list[QueueStatus], names: dict[str, str] | None = None) -> str:
    shown = names or queue_names(queues)
    return ", ".join(f"*{escape(shown.get(q.group_id, q.name))}*" for q in queues)


def _no_such_group(group: str, queues: list[QueueStatus], whose: Whose) -> Reply:
    return usage(
        f"No queue matches {quote(group)}. {whose.your.capitalize()} queues: {_names(queues)}.",
        f"/queue status {queues[0].name}",
    )


def format_queue(queue: QueueStatus, *, who: str = "you", name: str | None = None) -> str:
    """One mrkdwn line per queue with whatever figures the vendor gives (``who``: whose login it shows;
    ``name``: the queue as :func:`queue_names` shows it)."""
    facts: list[str] = []
    if queue.calls_waiting is not None:
        icon = ":red_circle:" if queue.calls_waiting else ":large_green_circle:"
        facts.append(f"{icon} {queue.calls_waiting} waiting")
    if queue.longest_wait_seconds is not None and queue.calls_waiting:
        facts.append(f"longest {format_seconds(queue.longest_wait_seconds)}")
    if queue.agents_logged_in is not None:
        free = f", {queue.agents_free} free" if queue.agents_free is not None else ""
        facts.append(f"{queue.agents_logged_in} agents logged in{free}")
    if queue.answered_today is not None or queue.missed_today is not None:
        facts.append(f"today {queue.answered_today or 0} answered / {queue.missed_today or 0} missed")
    if queue.me_logged_in is not None:
        facts.append(f"{who}: logged in" if queue.me_logged_in else f"{who}: logged out")
    shown = escape(name or queue.name)
    return f"*{shown}* — " + " · ".join(facts) if facts else f"*{shown}*"


def format_seconds(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
