"""The buttons on alert messages: Call back, I'll take it, Release, Resolve, Mark heard, Snooze.

Every click is acknowledged at once; the work runs after. Only users linked to a phone
identity may act (others get an ephemeral explanation), and an alert someone has claimed is
resolved or released only by its claimer or a phonebot admin (``bot.permissions``; anyone else
is told who has it). Clicks change the subject's record under its lock, so repeated or
concurrent clicks are idempotent (a repeated Call back rings once: its intent is claimed
first, see ``bot/intents.py``), and then ask the worker to re-render the message (in
place, paced like every other alert write); what happened is also said in the message's thread.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from adapters.errors import VendorError
from adapters.models import Capability
from bot.alerts.digests import Digests
from bot.alerts.ledger import Ledger, SubjectRecord
from bot.alerts.queue import AlertQueue, WorkspaceQueues, subject_key
from bot.identity import Linked
from bot.intents import CLICK_WINDOW_SECONDS, Intents, click_key
from bot.mrkdwn import mention
from handlers.alert_view import (
    CALLBACK_ACTION,
    CLAIM_ACTION,
    HEARD_ACTION,
    RELEASE_ACTION,
    RESOLVE_ACTION,
    SNOOZE_ACTION,
    hearer,
    resolver,
)
from handlers.call import already_calling, dial
from handlers.context import Services
from handlers.payload import json_object
from handlers.reply import Reply

ALERT_ACTIONS = (CALLBACK_ACTION, CLAIM_ACTION, RELEASE_ACTION, RESOLVE_ACTION, HEARD_ACTION, SNOOZE_ACTION)


#: A click on an alert another workspace's phonebot posted (a channel shared between workspaces).
OTHER_WORKSPACE = (
    "That alert belongs to another workspace's phonebot, so I can't act on it from here; the alert is unchanged."
)


@dataclass(frozen=True)
class Click:
    """Who clicked which alert button where."""

    action_id: str
    user_id: str
    value: str
    channel: str | None
    #: The message (or view) the button is on: with the user, action and value, one click's intent.
    container: str = ""
    #: The ``ts`` of the channel message the button is on (``None`` inside a modal).
    message_ts: str | None = None
    #: For a click inside a digest's Show-all modal: the digest that modal lists.
    digest_id: str | None = None


class AlertActions:
    """Carries out alert button clicks."""

    def __init__(self, services: Services, queue: AlertQueue, *, queues: WorkspaceQueues | None = None) -> None:
        self.services = services
        self.queue = queue
        self.ledger = Ledger(queue.redis, queue.keys)
        self.queues = queues

    def _in_pipeline_of(self, value: str) -> AlertActions:
        """These actions in the pipeline the request's workspace shows the clicked alert's vendor with."""
        try:
            vendor = json.loads(value).get("vendor")
        except (ValueError, AttributeError):
            return self
        own = self.queues(self.services.workspace, str(vendor)) if self.queues is not None and vendor else None
        if own is None:
            return self
        acting = copy.copy(self)
        acting.queue, acting.ledger = own, Ledger(own.redis, own.keys)
        return acting

    def with_services(self, services: Services) -> AlertActions:
        """These actions for one request (its installation's Slack token and key scope)."""
        acting = copy.copy(self)
        acting.services = services
        return acting

    async def handle(self, click: Click) -> Reply:
        """Do what the button says; the reply goes to the clicker only."""
        return await self._in_pipeline_of(click.value)._handle(click)

    async def _handle(self, click: Click) -> Reply:
        linked = await self.services.identities.resolve(click.user_id)  # IdentityError → kind explanation
        if not self._in_this_workspace(click.value):  # posted by another workspace's pipeline (a shared channel)
            return Reply(text=OTHER_WORKSPACE)
        if click.action_id == SNOOZE_ACTION:
            return await self._snooze(click)
        try:
            ref = json.loads(click.value)
            key = subject_key(str(ref["vendor"]), str(ref["subject"]))
        except (ValueError, KeyError, TypeError):
            return Reply(text="That button is from an older phonebot and no longer works; the alert is unchanged.")
        async with self.ledger.locked(key, wait=5) as held:
            if not held:
                return Reply(text=":hourglass: Someone else is updating this alert right now; try again in a moment.")
            record = await self.ledger.load(key)
            if record.state is None:
                return Reply(text="I no longer have that alert (it is older than 30 days).")
            if not await self._shown_where_clicked(record, click):
                return Reply(text="That button doesn't belong to this alert's message, so I left the alert alone.")
            if click.action_id == HEARD_ACTION and record.state.family != "voicemail":
                return Reply(text="Only voicemails can be marked heard; the alert is unchanged.")
            if click.action_id == CALLBACK_ACTION:
                reply = await self._call_back(record, linked, click)
            elif click.action_id == CLAIM_ACTION:
                reply = await self._claim(record, linked, click)
            elif click.action_id == RELEASE_ACTION:
                reply = self._release(record, click)
            elif click.action_id == RESOLVE_ACTION:
                reply = await self._resolve(record, linked, click)
            else:
                reply = await self._heard(record, linked, click)
            await self.ledger.save(record)
        await self.queue.request_sync(key)
        return reply

    def _in_this_workspace(self, value: str) -> bool:
        """Whether a button value names no workspace, or the request's own."""
        named = (json_object(value) or {}).get("w")  # not a value that names one: the other checks judge it
        here = self.services.workspace.scope if self.services.workspace is not None else ""
        return not named or named == here

    async def _shown_where_clicked(self, record: SubjectRecord, click: Click) -> bool:
        """Whether the alert named in the button value is the one phonebot showed where it was clicked.

        A button value is the clicker's to edit; the channel and message ``ts`` come from Slack.
        So the subject must be phonebot's own record of *that* message (or a member of the digest
        the modal lists), or a crafted value could act on any alert.
        """
        if click.digest_id is not None:
            return await Digests(self.queue.redis, self.queue.keys).has_member(click.digest_id, record.key)
        target = record.targets.get(click.channel or "")
        return target is not None and target.ts is not None and target.ts == click.message_ts

    async def _call_back(self, record: SubjectRecord, linked: Linked, click: Click) -> Reply:
        state = record.state
        assert state is not None
        if not state.caller_number:
            return Reply(text="The caller's number is hidden, so there is nothing to call back.")
        linked.adapter.require(Capability.DIAL)
        intent = click_key(user_id=click.user_id, action=click.action_id, container=click.container, value=click.value)
        async with Intents(self.services.store).once(intent, ttl=CLICK_WINDOW_SECONDS) as first:
            if not first:
                return already_calling(self.services, state.caller_number, state.caller_name)
            reply = await dial(self.services, linked, state.caller_number, name=state.caller_name)
        at = self._now_text()
        changes: dict[str, Any] = {}
        if state.owner is None:
            changes["owner"] = click.user_id
        record.state = state.model_copy(update=changes)
        record.touch()
        record.add_note(f":telephone_receiver: <@{click.user_id}> is calling back ({at}).")
        return reply

    async def _claim(self, record: SubjectRecord, linked: Linked, click: Click) -> Reply:
        state = record.state
        assert state is not None
        if state.owner == click.user_id:
            return Reply(text="You already have this one.")
        if state.owner is not None:
            return Reply(
                text=f"{mention(state.owner)} already took this one (they or a phonebot admin can release it)."
            )
        vendor_note = await self._write_back(record, linked, handled=False)
        record.state = state.model_copy(update={"owner": click.user_id})
        record.touch()
        record.add_note(f":raising_hand: <@{click.user_id}> is taking it.")
        return Reply(text=f":raising_hand: It's yours; the channel can see you're on it.{vendor_note}")

    async def _resolve(self, record: SubjectRecord, linked: Linked, click: Click) -> Reply:
        state = record.state
        assert state is not None
        if state.status != "open":
            by = resolver(state)
            return Reply(text=f"This alert is already {state.status}{f' by {by}' if by else ''}.")
        allowed = self.services.permissions.change_claimed_alert(click.user_id, state.owner, verb="resolve")
        if not allowed:
            return Reply(text=allowed.reason)
        vendor_note = await self._write_back(record, linked, handled=True)
        now = self.services.clock()
        record.state = state.model_copy(
            update={"status": "resolved", "resolved_by": None, "resolved_by_user": click.user_id, "resolved_at": now}
        )
        record.touch()
        for_whom = f", who had taken it from {mention(state.owner)}" if state.owner not in (None, click.user_id) else ""
        record.add_note(f":white_check_mark: Resolved by <@{click.user_id}>{for_whom} ({self._now_text()}).")
        return Reply(text=f":white_check_mark: Marked resolved.{vendor_note}")

    def _release(self, record: SubjectRecord, click: Click) -> Reply:
        """Un-claim: the alert is nobody's again (shown in Slack only; a vendor's record is left as it is)."""
        state = record.state
        assert state is not None
        if state.owner is None:
            return Reply(text="Nobody has this one; anyone can take it.")
        allowed = self.services.permissions.change_claimed_alert(click.user_id, state.owner, verb="release")
        if not allowed:
            return Reply(text=allowed.reason)
        record.state = state.model_copy(update={"owner": None})
        record.touch()
        if state.owner == click.user_id:
            record.add_note(f":wave: <@{click.user_id}> let it go; anyone can take it ({self._now_text()}).")
            return Reply(text=":wave: You let it go; anyone can take it now.")
        at = self._now_text()
        record.add_note(
            f":wave: <@{click.user_id}> released it from {mention(state.owner)}; anyone can take it ({at})."
        )
        return Reply(text=f":wave: Released from {mention(state.owner)}; anyone can take it now.")

    async def _heard(self, record: SubjectRecord, linked: Linked, click: Click) -> Reply:
        state = record.state
        assert state is not None
        if state.heard_by or state.heard_by_user:
            return Reply(text=f"{hearer(state)} already listened to it.")
        voicemail_id = state.detail.get("voicemail_id")
        vendor_note = ""
        adapter = self.services.adapters.get(state.vendor)
        if adapter is not None and adapter.supports(Capability.VOICEMAIL_HEARD) and voicemail_id is not None:
            identity = linked.identity if linked.adapter.name == state.vendor else adapter.service_identity()
            try:
                await adapter.mark_voicemail_heard(identity, str(voicemail_id))
                vendor_note = f" It is marked heard in {adapter.display_name} too."
            except VendorError as exc:
                vendor_note = f" ({adapter.display_name} could not be updated: {exc.message})"
        record.state = state.model_copy(update={"heard_by_user": click.user_id})
        record.touch()
        record.add_note(f":ear: <@{click.user_id}> listened to it ({self._now_text()}).")
        return Reply(text=f":ear: Marked heard.{vendor_note}")

    async def _write_back(self, record: SubjectRecord, linked: Linked, *, handled: bool) -> str:
        """On vendors that track ownership (Dstny's call log), record it there too."""
        state = record.state
        assert state is not None
        if linked.adapter.name != state.vendor or not linked.adapter.supports(Capability.ALERT_CLAIM):
            return ""
        try:
            await linked.adapter.claim_alert(linked.identity, state.detail, handled=handled)
        except VendorError as exc:
            return f" ({linked.adapter.display_name} could not be updated: {exc.message})"
        return f" {linked.adapter.display_name}'s call log says so too."

    async def _snooze(self, click: Click) -> Reply:
        if not click.channel:
            return Reply(text="Snooze works on alerts in a channel.")
        minutes = self.services.config.alerts.snooze_minutes
        until = self.services.clock() + timedelta(minutes=minutes)
        await self.queue.redis.set(
            self.queue.keys.snooze(click.channel), str(until.timestamp()), ex=round(minutes * 60) + 60
        )
        local = until.astimezone(self.services.config.tz).strftime("%H:%M")
        return Reply(
            text=f":zzz: New alerts for this channel are held until {local}; "
            "then they arrive as one digest. Updates to alerts already shown continue."
        )

    def _now_text(self) -> str:
        return self.services.clock().astimezone(self.services.config.tz).strftime("%H:%M")
