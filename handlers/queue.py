"""``/queue``: queue status and ACD agent login/logout."""

from __future__ import annotations

from adapters.models import Capability, QueueStatus
from bot.identity import Linked
from bot.mrkdwn import escape
from handlers.choices import Choices
from handlers.context import Services
from handlers.parsing import QueueHelp, QueueLoginCmd, QueueStatusCmd, UsageError, help_text, parse_queue
from handlers.reply import MAX_BUTTONS, Button, Reply, usage

LOGIN_PICK_ACTION = "queue_login_pick"


async def queue_command(services: Services, *, user_id: str, text: str) -> Reply:
    """Handle ``/queue [status|login|logout] [group]``."""
    parsed = parse_queue(text)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, QueueHelp):
        return Reply(text=help_text("queue"))
    linked = await services.identities.resolve(user_id)
    if isinstance(parsed, QueueStatusCmd):
        return await _status(linked, parsed.group)
    assert isinstance(parsed, QueueLoginCmd)
    return await _login(services, linked, parsed.group, login=parsed.login)


async def queue_login_pick_action(services: Services, *, user_id: str, value: str) -> Reply:
    """A click on a group button offered when several groups could be meant (only what was offered)."""
    choice = await Choices(services.store, LOGIN_PICK_ACTION).taken(value)
    group_id, login, name = (choice or {}).get("group_id"), (choice or {}).get("login"), (choice or {}).get("name")
    if not isinstance(group_id, str) or not isinstance(login, bool) or not isinstance(name, str):
        return Reply(
            text="Those choices have expired (or weren't mine); run `/queue login` again.", replace_original=True
        )
    linked = await services.identities.resolve(user_id)
    linked.adapter.require(Capability.QUEUE_LOGIN)
    await linked.adapter.queue_login(linked.identity, group_id, logged_in=login)
    verb = "in to" if login else "out of"
    return Reply(text=f":white_check_mark: You're logged {verb} *{escape(name)}*.", replace_original=True)


async def _login_button(services: Services, queue: QueueStatus, shown: str, *, login: bool) -> Button:
    choice = {"group_id": queue.group_id, "login": login, "name": shown[:200]}
    token = await Choices(services.store, LOGIN_PICK_ACTION).offer(choice)
    return Button(label=shown, action_id=f"{LOGIN_PICK_ACTION}:{token}", value=token)


async def _status(linked: Linked, group: str | None) -> Reply:
    linked.adapter.require(Capability.QUEUE_STATUS)
    queues = await linked.adapter.queue_status(linked.identity)
    if not queues:
        return Reply(text=f"You aren't in any queue on {linked.adapter.display_name}.")
    names = queue_names(queues)
    if group is not None:
        matches = match_groups(queues, group)
        if not matches:
            return _no_such_group(group, queues)
        queues = matches
    lines = [format_queue(queue, name=names[queue.group_id]) for queue in queues]
    return Reply(text="\n".join(lines), context=f"Queue status from {linked.adapter.display_name}")


async def _login(services: Services, linked: Linked, group: str | None, *, login: bool) -> Reply:
    linked.adapter.require(Capability.QUEUE_LOGIN)
    everything = await linked.adapter.queue_status(linked.identity)
    names = queue_names(everything)
    queues = [q for q in everything if q.me_logged_in is not None]
    verb = "in to" if login else "out of"
    if not queues:
        return Reply(text=f"You have no queues on {linked.adapter.display_name} that you can log {verb}.")
    if group is not None:
        candidates = match_groups(queues, group)
        if not candidates:
            return _no_such_group(group, queues)
    else:
        # No group named: only the queues where this would change something.
        candidates = [q for q in queues if q.me_logged_in != login]
        if not candidates:
            state = "in to" if login else "out of"
            return Reply(text=f"You're already logged {state} all your queues: {_names(queues, names)}.")
    if len(candidates) > 1:
        return Reply(
            text=f"Which queue should I log you {verb}?",
            buttons=[
                await _login_button(services, queue, names[queue.group_id], login=login)
                for queue in candidates[:MAX_BUTTONS]
            ],
        )
    queue = candidates[0]
    shown = escape(names[queue.group_id])
    if queue.me_logged_in == login:
        return Reply(text=f"You're already logged {verb} *{shown}*.")
    await linked.adapter.queue_login(linked.identity, queue.group_id, logged_in=login)
    return Reply(text=f":white_check_mark: You're logged {verb} *{shown}*.")


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


def _no_such_group(group: str, queues: list[QueueStatus]) -> Reply:
    return usage(
        f"No queue matches \u201c{group}\u201d. Your queues: {_names(queues)}.", f"/queue status {queues[0].name}"
    )


def format_queue(queue: QueueStatus, *, name: str | None = None) -> str:
    """One mrkdwn line per queue with whatever figures the vendor gives (``name``: as :func:`queue_names` shows it)."""
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
        facts.append("you: logged in" if queue.me_logged_in else "you: logged out")
    shown = escape(name or queue.name)
    return f"*{shown}* — " + " · ".join(facts) if facts else f"*{shown}*"


def format_seconds(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
