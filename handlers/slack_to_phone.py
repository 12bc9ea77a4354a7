"""Slack → phone (issue 12 points 5, 6 and 7): a huddle puts the phone on DND and back; a mapped Slack status sets it.

Both are opt-in per person (:class:`~bot.status_sync.prefs.SyncPrefs` ``huddle_to_phone``,
``slack_status_to_phone``). What phonebot set on the phone from Slack is kept
(:class:`~bot.status_sync.echoes.PhoneFromSlack`), so "after the huddle" restores what the phone showed before
and a phone-side reader never echoes it back to Slack; a Slack status phonebot wrote itself
(:meth:`~bot.status_sync.sync.StatusSync.is_own`) never sets the phone. A presence set from Slack does not go
through :mod:`handlers.slack_status`: Slack already shows what the person did there.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from datetime import datetime

from adapters.base import VendorAdapter
from adapters.errors import IdentityError
from adapters.models import Capability, PresenceChange, VendorIdentity
from bot.status_sync.echoes import FromSlack, PhoneFromSlack, PhoneShape
from bot.status_sync.mapping import DEFAULT_STATUSES, SlackStatus
from bot.status_sync.prefs import PersonPrefs, SyncPrefs
from bot.status_sync.reverse import activity_for_emoji, until_of
from bot.status_sync.seen import PresenceSeen
from bot.status_sync.sync import StatusSync
from bot.status_sync.workspace_status import DEFAULT_HUDDLE_ACTIVITY, StatusSettings
from bot.store import Store
from handlers.context import Services
from handlers.slack_status_prefs import workspace_status

log = logging.getLogger(__name__)

#: The phone activity of a huddle where the workspace admin chose none (issue 12 point 5).
HUDDLE_ACTIVITY = DEFAULT_HUDDLE_ACTIVITY
HUDDLE_NOTE = "In a Slack huddle"
IN_A_HUDDLE = "in_a_huddle"


class Done(enum.Enum):
    """What an event did to the person's phone presence (for logs and tests)."""

    OFF = "off"  # the person's switch is off, or no workspace
    ECHO = "echo"  # phonebot's own change coming back
    NOTHING = "nothing"  # nothing to do (unmapped emoji, already set, not phonebot's to undo)
    NOT_LINKED = "not_linked"
    UNSUPPORTED = "unsupported"  # the vendor can't set presence (or named activities)
    SET = "set"
    RESTORED = "restored"
    LEFT_ALONE = "left_alone"  # the phone shows something else now: the person changed it there


class SlackToPhone:
    """The phone side of huddles and Slack statuses, for one deployment (every workspace)."""

    def __init__(self, store: Store, status_sync: StatusSync | None) -> None:
        self.prefs = PersonPrefs(store)
        self.records = PhoneFromSlack(store)
        self.seen = PresenceSeen(store)
        self.status_sync = status_sync

    async def huddle_changed(self, services: Services, user_id: str, *, in_huddle: bool) -> Done:
        """A huddle started (DND on the phone, keeping what it showed) or ended (that put back)."""
        prefix = services.workspace.data_prefix if services.workspace is not None else None
        settings = await workspace_status(services)
        if prefix is None or not (await self._prefs(prefix, user_id, settings)).huddle_to_phone:
            return Done.OFF
        record = await self.records.get(prefix, user_id)
        now = services.clock()
        if in_huddle:
            if record is not None and record.source == "huddle":
                return Done.NOTHING  # already on DND for this huddle
            activity = settings.huddle_activity if settings is not None else HUDDLE_ACTIVITY
            return await self._set(services, prefix, user_id, "huddle", activity, None, HUDDLE_NOTE, now)
        if record is None or record.source != "huddle":
            return Done.NOTHING
        return await self._undo(services, prefix, user_id, record, now)

    async def status_changed(self, services: Services, user_id: str, status: SlackStatus) -> Done:
        """The person's Slack status changed: a mapped emoji sets that activity until the status ends; no mapped
        emoji (cleared, or another) after phonebot set the phone from a status puts the phone back."""
        prefix = services.workspace.data_prefix if services.workspace is not None else None
        settings = await workspace_status(services)
        if prefix is None or not (await self._prefs(prefix, user_id, settings)).slack_status_to_phone:
            return Done.OFF
        if self.status_sync is not None and await self.status_sync.is_own(prefix, user_id, status):
            return Done.ECHO
        now = services.clock()
        record = await self.records.get(prefix, user_id)
        activity = activity_for_emoji(status.emoji, _statuses(settings))
        if activity is None:
            if record is None or record.source != "status":
                return Done.NOTHING
            return await self._undo(services, prefix, user_id, record, now)
        try:
            until = until_of(status.expiration, now)
        except ValueError:
            return Done.NOTHING
        if record is not None and record.source == "huddle":
            return Done.NOTHING  # the huddle's DND stands; its end puts back what the phone showed
        note = status.text or activity
        return await self._set(services, prefix, user_id, "status", activity, until, note, now, keep=record)

    async def _prefs(self, prefix: str, user_id: str, settings: StatusSettings | None) -> SyncPrefs:
        """The person's switches, else their workspace admin's defaults."""
        return await self.prefs.get(prefix, user_id, default=settings.defaults if settings is not None else None)

    async def _set(
        self,
        services: Services,
        prefix: str,
        user_id: str,
        source: str,
        activity: str,
        until: datetime | None,
        note: str,
        now: datetime,
        *,
        keep: FromSlack | None = None,
    ) -> Done:
        phone = await _phone(services, user_id)
        if phone is None:
            return Done.NOT_LINKED
        adapter, identity = phone
        if not adapter.supports(Capability.PRESENCE_WRITE):
            return Done.UNSUPPORTED
        if activity not in ("available", "dnd") and not adapter.supports(Capability.PRESENCE_ACTIVITIES):
            activity = "dnd"  # a DND-only phone (Relatel): callers get DND, as /presence does
        previous = keep.previous if keep is not None else None
        if keep is None and adapter.supports(Capability.PRESENCE_READ):
            previous = PhoneShape.of(await adapter.get_presence(identity))
        shown = await adapter.set_presence(identity, PresenceChange(activity=activity, until=until, note=note[:100]))
        wrote = PhoneShape.of(shown)
        if until is not None and wrote.until is None:
            wrote = PhoneShape(activity=wrote.activity, until=until)
        record = FromSlack(source="huddle" if source == "huddle" else "status", set=wrote, previous=previous)
        await self.records.put(prefix, user_id, record, now=now)
        return Done.SET

    async def _undo(self, services: Services, prefix: str, user_id: str, record: FromSlack, now: datetime) -> Done:
        """Put back what the phone showed before phonebot's change from Slack, unless the person changed it."""
        await self.records.forget(prefix, user_id)
        phone = await _phone(services, user_id)
        if phone is None:
            return Done.NOT_LINKED
        adapter, identity = phone
        if not adapter.supports(Capability.PRESENCE_WRITE):
            return Done.UNSUPPORTED
        if adapter.supports(Capability.PRESENCE_READ):
            showing = PhoneShape.of(await adapter.get_presence(identity))
            if not showing.same_state(record.set):
                return Done.LEFT_ALONE
        back = record.previous
        if back is None or back.activity == "available" or (back.until is not None and back.until <= now):
            back = PhoneShape(activity="available")
        shown = await adapter.set_presence(identity, PresenceChange(activity=back.activity, until=back.until))
        await self.seen.note(prefix, user_id, shown)  # phonebot's own write: the presence poller shows nothing
        return Done.RESTORED


async def _phone(services: Services, user_id: str) -> tuple[VendorAdapter, VendorIdentity] | None:
    """The person's own phone identity, or ``None`` when they linked none (nobody to ask: the event is dropped)."""
    try:
        linked = await services.identities.resolve(user_id)
    except IdentityError:
        return None
    return linked.adapter, linked.identity


def _statuses(settings: StatusSettings | None) -> Mapping[str, tuple[str, str]]:
    """Activity → (emoji, text) as this workspace shows them: the defaults with its admin's changes."""
    return {**DEFAULT_STATUSES, **(settings.lookup() if settings is not None else {})}
