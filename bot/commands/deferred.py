"""An acked slash command whose work is still to do, and the queue it waits in for a command worker.

Kept free of the handlers themselves, so the services (``handlers.context``) can name the queue.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Protocol

#: The slash commands phonebot serves (``handlers.commands.SLASH_COMMANDS`` runs each).
COMMAND_NAMES = ("/presence", "/call", "/queue", "/phonebot")
#: Slack's own bounds: a command's text is at most 4,000 characters; ids and URLs are short.
MAX_TEXT = 4000
MAX_FIELD = 500


@dataclass(frozen=True)
class DeferredCommand:
    """One acked slash command whose work is still to do: everything the work needs, nothing more."""

    command: str
    text: str
    user_id: str
    response_url: str
    enterprise_id: str | None
    team_id: str | None
    is_enterprise_install: bool
    #: When Slack's request was acked (epoch seconds): work that waited too long is refused.
    acked_at: float

    def to_fields(self) -> dict[str, str]:
        """The queue entry (flat strings; ``None`` as the empty string)."""
        fields = asdict(self)
        return {
            name: ("1" if value else "") if isinstance(value, bool) else "" if value is None else str(value)
            for name, value in fields.items()
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> DeferredCommand | None:
        """The command an entry holds; ``None`` for an entry no acking process could have written."""
        try:
            command = fields["command"]
            text = fields["text"]
            job = cls(
                command=command,
                text=text,
                user_id=fields["user_id"],
                response_url=fields["response_url"],
                enterprise_id=fields.get("enterprise_id") or None,
                team_id=fields.get("team_id") or None,
                is_enterprise_install=bool(fields.get("is_enterprise_install")),
                acked_at=float(fields["acked_at"]),
            )
        except (KeyError, ValueError):
            return None
        short = (job.user_id, job.response_url, job.enterprise_id or "", job.team_id or "")
        if command not in COMMAND_NAMES or len(text) > MAX_TEXT or any(len(value) > MAX_FIELD for value in short):
            return None
        return job

    def waited(self, now: float | None = None) -> float:
        """Seconds since the ack."""
        return (time.time() if now is None else now) - self.acked_at


class QueueFull(Exception):
    """The command queue holds as many commands as it may: this one was not queued."""


class QueueRefused(Exception):
    """The command queue's store refused the connection: the command certainly was not queued."""


class CommandQueue(Protocol):
    """Where acked commands wait for a command worker (``bot.commands.queue.RedisCommandQueue``)."""

    async def put(self, job: DeferredCommand) -> None:
        """Queue ``job`` durably; :class:`QueueFull` or :class:`QueueRefused` when it certainly was not queued
        (any other error leaves it unknown)."""
        ...
