""" "On a call" in Slack status (issue 12 point 3): while a linked person is on a phone call, their status says so.

The signal is vendor-neutral (:class:`CallActivity`): a person's call became active or ended. Today it comes
from Tele2's ``CallConnected``/``CallCompleted`` webhooks (:func:`activity_of`), which reach the alert worker
through the durable, deduplicated alert queue; the worker hands every call event to :meth:`OnACall.observe`
before routing it (a call event still posts only where a route asks for ``call``).

* A call that becomes active is noted in ``<prefix>on-a-call:<user>`` (a Redis hash of call ids, so
  overlapping calls count separately) and a *show* job is put in a durable sorted set, due
  ``min_call_seconds`` later. No in-process sleep: a restart loses nothing.
* The end of the person's last call removes the job (a short call never touches Slack) and, when the call
  status shows, puts back what it replaced.
* When the job is due and a call is still going on, the workspace's ``call`` emoji and text are set with a
  safety expiry of :data:`SAFETY_SECONDS` (a lost "ended" event can't leave it for ever) and the job is due
  again then, to put the previous status back and forget the calls.

Restore rules are presence's (:mod:`.sync`): the status showing before (the person's own, or phonebot's
presence status) is kept and put back afterwards unless it expired meanwhile; a status the person set by
hand during the call wins. Every write is noted in the loop guard (:mod:`.echoes`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from adapters.events import AlertEvent, AlertKind
from bot.config import PhonebotConfig
from bot.installs.workspace import NotASlackId, WorkspaceKey
from bot.linking.links import AccountLinks
from bot.status_sync.due import DueRestorer, DueRestores
from bot.status_sync.mapping import MAX_STATUS_TEXT, NO_STATUS, SlackStatus
from bot.status_sync.sync import Outcome, StatusSync, _Status
from bot.status_sync.workspace_status import StatusSettings

log = logging.getLogger(__name__)

CALLS_DUE_KEY = "phonebot:slack-status:calls-due"
TASK = "slack-status-calls"
#: The longest a call status shows without an "ended" event (a lost event can't leave it for ever).
SAFETY_SECONDS = 4 * 3600
#: Calls one person can have going at once (transfers, a second line); more are not tracked.
MAX_CALLS = 20
MAX_CALL_ID = 160

#: Tele2 events (adapters/tele2/webhooks.py ``detail["event"]``) → what they mean for the employee
#: ``contactID``. ``CallStarted`` is left out: it is the ringing, before anyone is on the call.
_TELE2_PHASES: dict[str, Literal["active", "ended"]] = {
    "CallConnected": "active",
    "CallTransfered": "active",  # the call is now the new employee's (``contactID``)
    "CallCompleted": "ended",
}

#: The workspace's status settings (``None``: the code's defaults).
LoadSettings = Callable[[WorkspaceKey], Awaitable[StatusSettings | None]]


@dataclass(frozen=True)
class CallActivity:
    """One vendor user's call became active, or ended."""

    vendor: str
    vendor_user_id: str
    call_id: str
    phase: Literal["active", "ended"]
    at: datetime


def activity_of(event: AlertEvent) -> list[CallActivity]:
    """The call activity an alert event says (none for events that are not about a person's call)."""
    if event.kind is not AlertKind.CALL_EVENT:
        return []
    name = event.detail.get("event")
    phase = _TELE2_PHASES.get(name) if isinstance(name, str) else None
    call_id = event.detail.get("call_id")
    if phase is None or call_id is None:
        return []
    found: list[CallActivity] = []
    contact = event.detail.get("contact_id")
    if contact is not None:
        found.append(
            CallActivity(event.vendor, str(contact)[:64], str(call_id)[:MAX_CALL_ID], phase, event.occurred_at)
        )
    previous = event.detail.get("previous_contact_id")
    if name == "CallTransfered" and previous is not None and previous != contact:
        # Handed over: the call ended for the employee who had it.
        found.append(
            CallActivity(event.vendor, str(previous)[:64], str(call_id)[:MAX_CALL_ID], "ended", event.occurred_at)
        )
    if name == "CallCompleted" and previous is not None and previous != contact:
        found.append(
            CallActivity(event.vendor, str(previous)[:64], str(call_id)[:MAX_CALL_ID], "ended", event.occurred_at)
        )
    return found


async def slack_user_for(
    config: PhonebotConfig, links: AccountLinks, prefix: str, vendor: str, vendor_user_id: str
) -> str | None:
    """Who ``vendor``'s ``vendor_user_id`` is in Slack in this workspace: the reverse of the identity resolver.

    The config's ``users:`` entries that name a Slack id and the vendor user win (as they do forwards), then
    account links. An entry naming only an email is not matched (that would need a directory lookup per call).
    """
    primary = config.primary_vendor()
    for mapping in config.users:
        if mapping.slack and mapping.vendor_user == vendor_user_id and (mapping.vendor or primary) == vendor:
            return mapping.slack
    return await links.owner_of(prefix, vendor, vendor_user_id)


class _CallState(BaseModel):
    """The call status phonebot set for a person, and what it replaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    set: _Status
    previous: _Status | None = None


class OnACall:
    """Shows "on a call" as people's Slack status (see the module docstring)."""

    def __init__(
        self, sync: StatusSync, redis: Redis, links: AccountLinks, settings: LoadSettings, *, restore_seconds: float
    ) -> None:
        self.sync = sync
        self.redis = redis
        self.links = links
        self.settings = settings
        self.due = DueRestores(redis, CALLS_DUE_KEY)
        self.task = DueRestorer(
            self.due, self.act, interval=restore_seconds, failed=lambda outcome: outcome is Outcome.FAILED, task=TASK
        )
        self.clock: Callable[[], float] = time.time

    @staticmethod
    def calls_key(prefix: str, slack_user_id: str) -> str:
        """``<prefix>on-a-call:<Slack user id>``: the person's calls going on (call id → epoch second)."""
        return f"{prefix}on-a-call:{slack_user_id[:32]}"

    @staticmethod
    def state_key(prefix: str, slack_user_id: str) -> str:
        """``<prefix>slack-status-call:<Slack user id>``: the call status showing and what it replaced."""
        return f"{prefix}slack-status-call:{slack_user_id[:32]}"

    async def observe(self, key: WorkspaceKey, config: PhonebotConfig, event: AlertEvent) -> None:
        """Note the call activity ``event`` says, for the people it concerns (a redelivery changes nothing)."""
        for activity in activity_of(event):
            prefix = key.data_prefix
            user = await slack_user_for(config, self.links, prefix, activity.vendor, activity.vendor_user_id)
            if user is None:
                continue
            if activity.phase == "active":
                await self._started(key, prefix, user, activity.call_id)
            else:
                await self._ended(prefix, user, activity.call_id)

    async def _started(self, key: WorkspaceKey, prefix: str, user: str, call_id: str) -> None:
        status = await self.settings(key)
        defaults = status.defaults if status is not None else None
        if not (await self.sync.prefs.get(prefix, user, default=defaults)).on_a_call:
            return
        if not await self.sync.tokens.connected(prefix, user):
            return
        calls = self.calls_key(prefix, user)
        if await self.redis.hlen(calls) >= MAX_CALLS and not await self.redis.hexists(calls, call_id):
            return
        now = self.clock()
        await self.redis.hsetnx(calls, call_id, str(int(now)))
        await self.redis.expire(calls, SAFETY_SECONDS + 600)
        wait = status.min_call_seconds if status is not None else StatusSettings().min_call_seconds
        if await self.redis.exists(self.state_key(prefix, user)):
            return  # already showing: the first call's safety restore stays scheduled
        await self.due.retry(prefix, user, now + wait)  # NX: a second call does not push the first one's job back

    async def _ended(self, prefix: str, user: str, call_id: str) -> None:
        calls = self.calls_key(prefix, user)
        await self.redis.hdel(calls, call_id)
        if await self.redis.hlen(calls):
            return  # another call goes on: the status stays
        await self.due.remove(prefix, user)
        await self._restore(prefix, user)

    async def act(self, prefix: str, user: str, at: int, now: datetime) -> Outcome:
        """The person's job is due: show the call status, or (the safety time is up) put theirs back."""
        calls = self.calls_key(prefix, user)
        showing = await self._state(prefix, user) is not None
        if showing or not await self.redis.hlen(calls):
            await self.redis.delete(calls)  # no "ended" came within SAFETY_SECONDS: those calls are over
            return await self._restore(prefix, user)
        outcome = await self._show(prefix, user, now)
        if outcome is Outcome.SET:
            if not await self.redis.hlen(calls):  # the last call ended while the status was being set
                return await self._restore(prefix, user)
            await self.due.add(prefix, user, int(now.timestamp()) + SAFETY_SECONDS)
        return outcome

    async def _show(self, prefix: str, user: str, now: datetime) -> Outcome:
        token = await self.sync.tokens.get(prefix, user)
        if token is None:
            return Outcome.NOT_CONNECTED
        try:
            status = await self.settings(WorkspaceKey.from_data_prefix(prefix))
        except NotASlackId:
            status = None
        status = status or StatusSettings()
        if not (await self.sync.prefs.get(prefix, user, default=status.defaults)).on_a_call:
            return Outcome.OFF
        wanted = SlackStatus(
            status.call.text[:MAX_STATUS_TEXT], status.call.emoji, int(now.timestamp()) + SAFETY_SECONDS
        )
        client = self.sync.user_client(token)

        async def work() -> Outcome:
            current = SlackStatus.from_profile((await client.users_profile_get()).get("profile"))
            # Whatever shows is what comes back: the person's own, or phonebot's presence status.
            previous = None if current.empty or current.expired(now) else _Status.of(current)
            await self.sync._write(client, prefix, user, wanted)
            state = _CallState(set=_Status.of(wanted), previous=previous)
            await self.redis.set(self.state_key(prefix, user), state.model_dump_json(), ex=SAFETY_SECONDS + 3600)
            return Outcome.SET

        return await self.sync._guarded(prefix, user, work)

    async def _restore(self, prefix: str, user: str) -> Outcome:
        earlier = await self._state(prefix, user)
        if earlier is None:
            return Outcome.NOTHING
        token = await self.sync.tokens.get(prefix, user)
        if token is None:
            await self.redis.delete(self.state_key(prefix, user))
            return Outcome.NOT_CONNECTED
        client = self.sync.user_client(token)
        now = datetime.fromtimestamp(self.clock(), UTC)

        async def work() -> Outcome:
            current = SlackStatus.from_profile((await client.users_profile_get()).get("profile"))
            outcome = Outcome.LEFT_ALONE  # the person changed it by hand during the call: theirs wins
            if current.empty or current.same_as(earlier.set.status()):
                previous = earlier.previous.status() if earlier.previous is not None else None
                if previous is not None and not previous.expired(now):
                    await self.sync._write(client, prefix, user, previous)
                    outcome = Outcome.RESTORED
                elif not current.empty:
                    await self.sync._write(client, prefix, user, NO_STATUS)
                    outcome = Outcome.CLEARED
                else:
                    outcome = Outcome.NOTHING
            await self.redis.delete(self.state_key(prefix, user))
            return outcome

        outcome = await self.sync._guarded(prefix, user, work)
        if outcome is Outcome.FAILED:  # Slack paced or failed: try again shortly, never dropped
            await self.due.retry(prefix, user, self.clock() + 60)
        return outcome

    async def _state(self, prefix: str, user: str) -> _CallState | None:
        raw = await self.redis.get(self.state_key(prefix, user))
        if raw is None:
            return None
        try:
            return _CallState.model_validate_json(raw)
        except ValidationError:
            log.warning("the call status phonebot set could not be read; forgetting it")
            return None
