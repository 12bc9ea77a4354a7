"""Bolt listeners of ``user_huddle_changed`` and ``user_status_changed`` (issue 12 points 5 and 6).

Bolt acks an event before its listener runs; the work after it is bounded like every listener's (a slot of
the process's :class:`~handlers.limits.WorkLimiter`, and a time limit). Repeated deliveries are dropped by the
middleware (``event_id``). Nobody asked, so nobody is answered: a vendor failure is logged by its type only,
and the person gets at most one DM about it an hour.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import VendorError
from bot.metrics import COMMANDS
from bot.status_sync.mapping import SlackStatus
from handlers.context import Services
from handlers.limits import WorkBusy
from handlers.request_services import request_services
from handlers.slack_to_phone import IN_A_HUDDLE, Done, SlackToPhone

log = logging.getLogger(__name__)

HUDDLE_EVENT = "user_huddle_changed"
STATUS_EVENT = "user_status_changed"
#: How long one event's phone work may take (a slow vendor never holds a slot for long).
WORK_SECONDS = 20.0
NOTE_SECONDS = 3600
NOTE_KEY = "slack-to-phone-note:"
FAILED_NOTE = (
    ":warning: phonebot couldn't update your phone presence from Slack just now (the phone system didn't "
    "answer as expected). Set it with `/presence` if it matters; I'll say this at most once an hour."
)
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{1,31}")

Person = tuple[str, dict[str, Any]]


def register_slack_to_phone(app: AsyncApp, services: Services) -> None:
    """Attach the two events; ``services`` is the deployment's (its store is the unscoped one)."""
    phone = SlackToPhone(services.store, services.status_sync)

    async def run(
        name: str, here: Services, user_id: str, client: AsyncWebClient, work: Callable[[], Awaitable[Done]]
    ) -> None:
        try:
            async with here.work.slot(), asyncio.timeout(WORK_SECONDS):
                done = await work()
        except WorkBusy:
            COMMANDS.labels(name, "busy").inc()
            log.warning("%s: too busy to update a phone presence; dropped", name)
            return
        except (VendorError, TimeoutError) as exc:
            COMMANDS.labels(name, "failed").inc()
            log.warning("%s: updating a phone presence failed (%s)", name, type(exc).__name__)
            await _note_failure(services, here, user_id, client)
            return
        except Exception as exc:
            COMMANDS.labels(name, "error").inc()
            log.warning("%s: updating a phone presence failed (%s)", name, type(exc).__name__)
            return
        COMMANDS.labels(name, done.value).inc()

    async def huddle(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        person = _person(event, context)
        if person is None:
            return
        user_id, profile = person
        here = request_services(context, services)
        in_huddle = profile.get("huddle_state") == IN_A_HUDDLE
        await run(HUDDLE_EVENT, here, user_id, client, lambda: phone.huddle_changed(here, user_id, in_huddle=in_huddle))

    async def status(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        person = _person(event, context)
        if person is None:
            return
        user_id, profile = person
        here = request_services(context, services)
        shown = SlackStatus.from_profile(profile)
        await run(STATUS_EVENT, here, user_id, client, lambda: phone.status_changed(here, user_id, shown))

    app.event(HUDDLE_EVENT)(huddle)
    app.event(STATUS_EVENT)(status)


def _person(event: dict[str, Any], context: AsyncBoltContext) -> Person | None:
    """The event's Slack user id and profile; ``None`` for a malformed one or a user of another workspace."""
    user = event.get("user")
    if not isinstance(user, dict):
        return None
    user_id = user.get("id")
    if not isinstance(user_id, str) or not _SLACK_ID.fullmatch(user_id):
        return None
    team = user.get("team_id")
    if isinstance(team, str) and team and context.team_id and team != context.team_id:
        return None  # a Slack Connect guest's change: their phone is not this workspace's to set
    profile = user.get("profile")
    return user_id, profile if isinstance(profile, dict) else {}


async def _note_failure(services: Services, here: Services, user_id: str, client: AsyncWebClient) -> None:
    """Tell the person once an hour at most that their phone didn't follow Slack."""
    if here.workspace is None:
        return
    try:
        if await services.store.set_if_absent(here.workspace.data_prefix + NOTE_KEY + user_id, "1", ttl=NOTE_SECONDS):
            await client.chat_postMessage(channel=user_id, text=FAILED_NOTE)
    except Exception as exc:  # the note is a courtesy
        log.info("could not tell a person their phone presence didn't follow Slack (%s)", type(exc).__name__)
