"""What the App Home's phone buttons and its **Set…** modal do: each calls the service of the slash command it
stands for (``/presence``, ``/queue login|logout``, ``/call``), so everything that follows those (Slack status
sync, at-most-once dialling) follows these too."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.models import Capability
from bot.intents import CLICK_WINDOW_SECONDS, Intents, click_key
from handlers.call import already_calling, dial
from handlers.context import Services
from handlers.home_phone import CALL_AGAIN_ACTION
from handlers.home_publish import refresh_home
from handlers.home_state import count_presence, recent_calls
from handlers.parsing import (
    NEUTRAL_ACTIVITIES,
    QueueLoginCmd,
    SetPresence,
    ShowPresence,
    UsageError,
    parse_presence,
    parse_queue,
)
from handlers.presence import presence_command
from handlers.queue import queue_command
from handlers.reply import Reply

MODAL_CALLBACK = "home_presence_set"
ACTIVITY_BLOCK = "home_presence_activity"
WHEN_BLOCK = "home_presence_when"
ACTIVITY_ELEMENT = "activity"
WHEN_ELEMENT = "when"
MAX_WHEN = 100
STALE_BUTTON = "That button is out of date; open the Home tab again."


async def set_presence_action(services: Services, *, user_id: str, text: str) -> Reply:
    """A presence button (or the modal): exactly ``/presence <text>``; a set presence is counted for the buttons."""
    reply = await presence_command(services, user_id=user_id, text=text[: MAX_WHEN + 40])
    await count_if_set(services, user_id, text)
    return reply


async def count_if_set(services: Services, user_id: str, text: str) -> None:
    """Count ``text`` among ``user_id``'s most used presences when it sets one (not a show, clear or forward)."""
    parsed = parse_presence(text, now=services.clock(), tz=services.config.tz)
    if isinstance(parsed, SetPresence):
        await count_presence(services.store, user_id, text)


async def home_after_command(services: Services, command: str, *, user_id: str, text: str) -> None:
    """After a slash command's answer: count a presence set, and refresh the Home when the command changed what it
    shows (presence, a queue login, a call placed)."""
    if command == "/presence":
        parsed = parse_presence(text, now=services.clock(), tz=services.config.tz)
        if isinstance(parsed, (UsageError, ShowPresence)):
            return
        await count_if_set(services, user_id, text)
    elif command == "/queue":
        if not isinstance(parse_queue(text), QueueLoginCmd):
            return
    elif command != "/call":
        return
    refresh_home(services, user_id)


async def queue_toggle_action(services: Services, *, user_id: str, value: str) -> Reply:
    """A queue's Log in / Log out: exactly ``/queue login|logout <group id>`` for the clicker's own queues."""
    parsed = parse_queue(value)
    if not isinstance(parsed, QueueLoginCmd) or parsed.user is not None or parsed.group is None:
        return Reply(text=STALE_BUTTON)
    return await queue_command(services, user_id=user_id, text=value)


async def call_again_action(services: Services, *, user_id: str, call_id: str, container: str) -> Reply:
    """**Call again** on one of the clicker's own recent calls; the same click twice rings once (``/call``'s
    intents)."""
    call = next((c for c in await recent_calls(services.store, user_id) if c.id == call_id), None)
    if call is None:
        return Reply(text="That call isn't among your recent calls any more; use `/call` to call again.")
    linked = await services.identities.resolve(user_id)
    linked.adapter.require(Capability.DIAL)
    intent = click_key(user_id=user_id, action=CALL_AGAIN_ACTION, container=container, value=call_id)
    async with Intents(services.store).once(intent, ttl=CLICK_WINDOW_SECONDS) as first:
        if not first:
            return already_calling(services, call.number, call.name)
        return await dial(services, linked, call.number, name=call.name)


def presence_modal() -> dict[str, Any]:
    """The **Set…** modal: an activity and, in words, for how long or until when."""
    activities = sorted(NEUTRAL_ACTIVITIES - {"available"})
    options = [{"text": {"type": "plain_text", "text": name.capitalize()}, "value": name} for name in activities]
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": {"type": "plain_text", "text": "Set my presence"},
        "submit": {"type": "plain_text", "text": "Set"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": ACTIVITY_BLOCK,
                "label": {"type": "plain_text", "text": "Activity"},
                "element": {
                    "type": "static_select",
                    "action_id": ACTIVITY_ELEMENT,
                    "options": options,
                    "initial_option": options[activities.index("meeting")],
                },
            },
            {
                "type": "input",
                "block_id": WHEN_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "For how long, or until when"},
                "hint": {"type": "plain_text", "text": "As in /presence: 45m, 2h, until 13:00, until friday."},
                "element": {
                    "type": "plain_text_input",
                    "action_id": WHEN_ELEMENT,
                    "max_length": MAX_WHEN,
                    "placeholder": {"type": "plain_text", "text": "until 13:00"},
                },
            },
        ],
    }


def modal_text(view: dict[str, Any]) -> str | None:
    """The ``/presence`` text a submitted modal stands for; ``None`` when no activity was chosen."""
    values = (view.get("state") or {}).get("values") or {}
    chosen = ((values.get(ACTIVITY_BLOCK) or {}).get(ACTIVITY_ELEMENT) or {}).get("selected_option") or {}
    activity = str(chosen.get("value") or "")
    if activity not in NEUTRAL_ACTIVITIES:
        return None
    when = str(((values.get(WHEN_BLOCK) or {}).get(WHEN_ELEMENT) or {}).get("value") or "")[:MAX_WHEN]
    return f"{activity} {' '.join(when.split())}".strip()


def modal_errors(text: str | None, *, now: datetime, tz: ZoneInfo) -> dict[str, str] | None:
    """The field errors of a submitted modal (for ``response_action: errors``), or ``None`` when it reads well:
    the same parser as ``/presence``."""
    if text is None:
        return {ACTIVITY_BLOCK: "Choose an activity."}
    parsed = parse_presence(text, now=now, tz=tz)
    if isinstance(parsed, UsageError):
        return {WHEN_BLOCK: parsed.message.replace("`", "")[:150]}
    if not isinstance(parsed, SetPresence):
        return {WHEN_BLOCK: "Give a duration (45m) or an end (until 13:00), or leave it empty."}
    return None
