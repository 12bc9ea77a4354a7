"""``phonebot check --writes``: try each reversible write against the real vendor, then undo it.

The vendor documents print few paths, so a new deployment learns in one command which writes
its tenant accepts: the service user's presence is set and restored, and it is logged in or
out of one of its queues and back. Each operation is reported as *works*, *refused* (with
the status), *path not found* or *unknown* (no answer: it may have happened). Nothing that
could ring a phone or send a message is ever tried. A write that landed but could not be
undone says so loudly, with the state to restore by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adapters.base import VendorAdapter
from adapters.errors import NotFound, VendorError
from adapters.models import Capability, Presence, PresenceChange, QueueStatus

Outcome = Literal["works", "refused", "path not found", "unknown", "skipped"]


@dataclass(frozen=True)
class WriteProbe:
    """One row of the writes table."""

    operation: str
    outcome: Outcome
    detail: str

    @property
    def failed(self) -> bool:
        """Whether this row means a declared write does not work (or left something changed)."""
        return self.outcome in ("refused", "path not found", "unknown") or "RESTORE FAILED" in self.detail


def _outcome(exc: VendorError) -> tuple[Outcome, str]:
    if isinstance(exc, NotFound):
        return "path not found", f"{exc.status_code or 404}: correct it with vendors.<name>.paths"
    if exc.outcome_unknown:
        return "unknown", "no answer after the request was sent: it may have happened; look at the vendor's panel"
    status = f"{exc.status_code}" if exc.status_code else type(exc).__name__
    return "refused", f"{status}: {exc.message}"


async def probe_writes(adapter: VendorAdapter) -> list[WriteProbe]:
    """Try every reversible write ``adapter`` declares, as its service user, and restore each."""
    rows: list[WriteProbe] = []
    if adapter.supports(Capability.PRESENCE_WRITE):
        rows.append(await _presence(adapter))
    if adapter.supports(Capability.QUEUE_LOGIN):
        rows.extend(await _queue(adapter))
    return rows


def _as_change(presence: Presence) -> PresenceChange:
    if presence.activity is not None:
        activity = presence.activity.id
    else:
        activity = "dnd" if presence.dnd else ("available" if presence.available else "away")
    return PresenceChange(activity=activity, until=presence.until, note=presence.note)


async def _presence(adapter: VendorAdapter) -> WriteProbe:
    operation = Capability.PRESENCE_WRITE.value
    identity = adapter.service_identity()
    try:
        before = await adapter.get_presence(identity)
    except VendorError as exc:
        outcome, detail = _outcome(exc)
        return WriteProbe(operation, "skipped", f"could not read the presence to restore ({outcome}: {detail})")
    trial = PresenceChange(activity="available" if not before.available else "away", note=None)
    try:
        await adapter.set_presence(identity, trial)
    except VendorError as exc:
        outcome, detail = _outcome(exc)
        return WriteProbe(operation, outcome, detail)
    restore = _as_change(before)
    try:
        await adapter.set_presence(identity, restore)
    except VendorError as exc:
        return WriteProbe(
            operation,
            "works",
            f"set {trial.activity!r}, but RESTORE FAILED ({_outcome(exc)[0]}): set it back to"
            f" {restore.activity!r} by hand",
        )
    return WriteProbe(operation, "works", f"set {trial.activity!r}, restored {restore.activity!r}")


async def _queue(adapter: VendorAdapter) -> list[WriteProbe]:
    identity = adapter.service_identity()
    try:
        queues = [q for q in await adapter.queue_status(identity) if q.me_logged_in is not None]
    except VendorError as exc:
        outcome, detail = _outcome(exc)
        return [WriteProbe("queue.login", "skipped", f"could not read the queues ({outcome}: {detail})")]
    if not queues:
        return [WriteProbe("queue.login", "skipped", "the service user is in no queue it can log in to or out of")]
    queue = queues[0]
    return [await _toggle(adapter, queue)]


async def _toggle(adapter: VendorAdapter, queue: QueueStatus) -> WriteProbe:
    identity = adapter.service_identity()
    was_in = bool(queue.me_logged_in)
    operation = "queue.logout" if was_in else "queue.login"
    try:
        await adapter.queue_login(identity, queue.group_id, logged_in=not was_in)
    except VendorError as exc:
        outcome, detail = _outcome(exc)
        return WriteProbe(operation, outcome, f"{queue.name}: {detail}")
    try:
        await adapter.queue_login(identity, queue.group_id, logged_in=was_in)
    except VendorError as exc:
        state = "in to" if was_in else "out of"
        return WriteProbe(
            operation,
            "works",
            f"{queue.name}: but RESTORE FAILED ({_outcome(exc)[0]}): log the service user {state} it by hand",
        )
    return WriteProbe(operation, "works", f"{queue.name}: and back")
