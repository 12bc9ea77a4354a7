"""Set a person's Slack status (and DND) from their phone presence, and put their own back afterwards.

Restore, don't clobber (issue 12 point 2): before phonebot sets a status it reads the person's current
one (``users.profile.get``) and keeps it as *previous* — unless what shows is phonebot's own from an
earlier presence, whose previous stays the one to restore. When phonebot's ends (``/presence available``)
the previous status is put back unless it expired meanwhile; if the person changed their status by hand
while phonebot's showed, theirs stays and the saved one is forgotten.

A Slack failure never fails the presence change: the caller gets an :class:`Outcome` to mention. A
revoked token (``token_revoked``/``invalid_auth``) is forgotten, which switches sync off for that person.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.status_sync.due import DueRestores
from bot.status_sync.echoes import SAME_EXPIRY_SECONDS, StatusEchoes
from bot.status_sync.mapping import MAX_STATUS_TEXT, NO_STATUS, SlackStatus, status_for
from bot.status_sync.prefs import PersonPrefs
from bot.status_sync.seen import PresenceSeen
from bot.status_sync.tokens import StatusTokens
from bot.status_sync.workspace_status import StatusSettings
from bot.store import Store

log = logging.getLogger(__name__)

#: Slack errors meaning the person's token is gone for good (revoked, or the app uninstalled for them).
REVOKED_ERRORS = frozenset({"token_revoked", "invalid_auth", "account_inactive", "token_expired", "not_authed"})
#: How long the Slack side of a presence change may take before the reply goes out without it.
SLACK_SECONDS = 8.0

#: A Web API client acting with a person's user token.
UserClient = Callable[[str], AsyncWebClient]


class Outcome(enum.Enum):
    """What happened to the person's Slack status."""

    NOT_CONNECTED = "not_connected"
    #: The person switched "Slack status follows my phone" off (or the workspace's default is off).
    OFF = "off"
    SET = "set"
    RESTORED = "restored"
    CLEARED = "cleared"
    LEFT_ALONE = "left_alone"
    NOTHING = "nothing"
    FAILED = "failed"
    REVOKED = "revoked"
    #: Slack's pace for the workspace is taken: the write waits its turn (:mod:`bot.status_sync.pacing`).
    QUEUED = "queued"


class _Status(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(max_length=MAX_STATUS_TEXT)
    emoji: str = Field(max_length=100)
    expiration: int = Field(ge=0)

    @classmethod
    def of(cls, status: SlackStatus) -> _Status:
        return cls(text=status.text, emoji=status.emoji, expiration=status.expiration)

    def status(self) -> SlackStatus:
        return SlackStatus(self.text, self.emoji, self.expiration)


class _State(BaseModel):
    """What phonebot set for a person, and what it replaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    set: _Status
    previous: _Status | None = None
    snoozed: bool = False


class StatusSync:
    """The Slack side of ``/presence`` for people who connected their Slack status."""

    def __init__(
        self, store: Store, tokens: StatusTokens, user_client: UserClient, due: DueRestores | None = None
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.user_client = user_client
        #: When phonebot's statuses end, to put people's own back (``None``: only on ``/presence available``).
        self.due = due
        #: Each person's switches (``phone_to_slack`` off: presence leaves their Slack status alone).
        self.prefs = PersonPrefs(store)
        #: What phonebot just wrote, so Slack's event for it never sets the phone (no loops).
        self.echoes = StatusEchoes(store)
        #: The phone presence last seen (the presence poller shows only changes phonebot did not make).
        self.seen = PresenceSeen(store)

    @staticmethod
    def state_key(prefix: str, slack_user_id: str) -> str:
        """``<workspace data prefix>slack-status-state:<Slack user id>``: what phonebot set and replaced."""
        return f"{prefix}slack-status-state:{slack_user_id[:32]}"

    async def presence_set(
        self,
        prefix: str,
        slack_user_id: str,
        *,
        activity: str,
        label: str,
        until: datetime | None,
        now: datetime,
        workspace: StatusSettings | None = None,
    ) -> Outcome:
        """Show ``activity`` (until ``until``) as the person's Slack status, keeping what it replaces.

        ``workspace`` is the workspace's mapping and default switches (``None``: the code's defaults).
        """
        token = await self.tokens.get(prefix, slack_user_id)
        if token is None:
            return Outcome.NOT_CONNECTED
        defaults = workspace.defaults if workspace is not None else None
        if not (await self.prefs.get(prefix, slack_user_id, default=defaults)).phone_to_slack:
            return Outcome.OFF
        wanted = status_for(activity, label, until, now, workspace.lookup() if workspace is not None else None)
        client = self.user_client(token)

        async def work() -> Outcome:
            current = SlackStatus.from_profile((await client.users_profile_get()).get("profile"))
            earlier = await self._state(prefix, slack_user_id)
            if earlier is not None and current.same_as(earlier.set.status()):
                previous = earlier.previous  # phonebot's own still shows: what it replaced is still the one
            else:
                previous = None if current.empty or current.expired(now) else _Status.of(current)
            await self._write(client, prefix, slack_user_id, wanted.status)
            snoozed = False
            if wanted.snooze_minutes is not None:
                await client.dnd_setSnooze(num_minutes=wanted.snooze_minutes)
                snoozed = True
            elif earlier is not None and earlier.snoozed:
                await _end_snooze(client)
            state = _State(set=_Status.of(wanted.status), previous=previous, snoozed=snoozed)
            await self.store.set(self.state_key(prefix, slack_user_id), state.model_dump_json())
            if self.due is not None:
                if wanted.status.expiration:
                    await self.due.add(prefix, slack_user_id, wanted.status.expiration)
                else:
                    await self.due.remove(prefix, slack_user_id)
            return Outcome.SET

        return await self._guarded(prefix, slack_user_id, work)

    async def presence_cleared(self, prefix: str, slack_user_id: str, *, now: datetime) -> Outcome:
        """The person is available again: take phonebot's status down and put theirs back (if still due)."""
        token = await self.tokens.get(prefix, slack_user_id)
        if token is None:
            return Outcome.NOT_CONNECTED
        earlier = await self._state(prefix, slack_user_id)
        if earlier is None:
            return Outcome.NOTHING
        client = self.user_client(token)

        async def work() -> Outcome:
            current = SlackStatus.from_profile((await client.users_profile_get()).get("profile"))
            outcome = Outcome.LEFT_ALONE
            if current.same_as(earlier.set.status()):
                previous = earlier.previous.status() if earlier.previous is not None else None
                if previous is not None and not previous.expired(now):
                    await self._write(client, prefix, slack_user_id, previous)
                    outcome = Outcome.RESTORED
                else:
                    await self._write(client, prefix, slack_user_id, NO_STATUS)
                    outcome = Outcome.CLEARED
            if earlier.snoozed:
                await _end_snooze(client)
            await self._forget(prefix, slack_user_id)
            return outcome

        return await self._guarded(prefix, slack_user_id, work)

    async def restore_if_due(self, prefix: str, slack_user_id: str, at: int, now: datetime) -> Outcome:
        """phonebot's status that ended at ``at`` (Slack has cleared it): put the person's own back, unless a
        later presence replaced phonebot's, the person set one by hand, or theirs expired meanwhile."""
        earlier = await self._state(prefix, slack_user_id)
        if earlier is None or not earlier.set.expiration or earlier.set.expiration > at:
            # Already restored, or a later presence is showing now (open-ended, or its own restore is due later).
            # ``at`` may be later than phonebot's end: a retry after Slack paced or failed the first attempt.
            return Outcome.NOTHING
        token = await self.tokens.get(prefix, slack_user_id)
        if token is None:
            await self._forget(prefix, slack_user_id)
            return Outcome.NOT_CONNECTED
        client = self.user_client(token)

        async def work() -> Outcome:
            current = SlackStatus.from_profile((await client.users_profile_get()).get("profile"))
            outcome = Outcome.LEFT_ALONE
            if current.empty or current.same_as(earlier.set.status()):  # Slack cleared ours, or is about to
                previous = earlier.previous.status() if earlier.previous is not None else None
                if previous is not None and not previous.expired(now):
                    await self._write(client, prefix, slack_user_id, previous)
                    outcome = Outcome.RESTORED
                elif not current.empty:
                    await self._write(client, prefix, slack_user_id, NO_STATUS)
                    outcome = Outcome.CLEARED
                else:
                    outcome = Outcome.NOTHING
            await self.store.delete(self.state_key(prefix, slack_user_id))
            return outcome

        return await self._guarded(prefix, slack_user_id, work)

    async def is_own(self, prefix: str, slack_user_id: str, status: SlackStatus) -> bool:
        """Whether ``status`` (from a ``user_status_changed`` event) is one phonebot set: the one showing for
        a presence, or one it wrote moments ago (a restore); never a change the person made."""
        if await self.echoes.is_echo(prefix, slack_user_id, status):
            return True
        earlier = await self._state(prefix, slack_user_id)
        if earlier is None:
            return False
        own = earlier.set.status()
        return own.same_as(status) and abs(own.expiration - status.expiration) <= SAME_EXPIRY_SECONDS

    async def _write(self, client: AsyncWebClient, prefix: str, slack_user_id: str, status: SlackStatus) -> None:
        """``users.profile.set``, noted first: Slack's event for it may arrive before the call returns."""
        await self.echoes.wrote(prefix, slack_user_id, status)
        await client.users_profile_set(profile=status.to_profile())

    async def disconnect(self, prefix: str, slack_user_id: str) -> bool:
        """Forget the person's token and what phonebot set for them; whether they were connected."""
        await self._forget(prefix, slack_user_id)
        return await self.tokens.remove(prefix, slack_user_id)

    async def _forget(self, prefix: str, slack_user_id: str) -> None:
        """Forget what phonebot set for the person, and its restore."""
        await self.store.delete(self.state_key(prefix, slack_user_id))
        if self.due is not None:
            await self.due.remove(prefix, slack_user_id)

    async def _guarded(self, prefix: str, slack_user_id: str, work: Callable[[], Awaitable[Outcome]]) -> Outcome:
        try:
            async with asyncio.timeout(SLACK_SECONDS):
                return await work()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "") if exc.response is not None else ""
            if error in REVOKED_ERRORS:
                log.info("a person's Slack status token was refused (%s); status sync is off for them", error)
                await self.disconnect(prefix, slack_user_id)
                return Outcome.REVOKED
            log.warning("setting a Slack status failed (%s)", error[:40] or "no error code")
            return Outcome.FAILED
        except (TimeoutError, OSError) as exc:
            log.warning("setting a Slack status failed (%s)", type(exc).__name__)
            return Outcome.FAILED
        except Exception as exc:  # aiohttp client errors and the like: the presence answer stands without it
            log.warning("setting a Slack status failed (%s)", type(exc).__name__)
            return Outcome.FAILED

    async def _state(self, prefix: str, slack_user_id: str) -> _State | None:
        raw = await self.store.get(self.state_key(prefix, slack_user_id))
        if raw is None:
            return None
        try:
            return _State.model_validate_json(raw)
        except ValidationError:
            log.warning("what phonebot set as a Slack status could not be read; forgetting it")
            return None


async def _end_snooze(client: AsyncWebClient) -> None:
    """End a DND snooze phonebot started; one that already ended is fine."""
    try:
        await client.dnd_endSnooze()
    except SlackApiError as exc:
        if exc.response is None or exc.response.get("error") != "snooze_not_active":
            raise
