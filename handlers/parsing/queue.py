"""``/queue``: ``status``, ``login`` or ``logout``, each with an optional queue (group) name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from handlers.parsing.common import UsageError, quote, slack_unescape

__all__ = ["QueueCommand", "QueueHelp", "QueueLoginCmd", "QueueStatusCmd", "parse_queue"]


@dataclass(frozen=True, slots=True)
class QueueStatusCmd:
    """Show queue status: all of the caller's queues, or those matching ``group``."""

    group: str | None = None


@dataclass(frozen=True, slots=True)
class QueueLoginCmd:
    """Log the caller in (``login=True``) or out of ``group``, or of the one queue they have."""

    group: str | None
    login: bool


@dataclass(frozen=True, slots=True)
class QueueHelp:
    """Show the ``/queue`` help."""


QueueCommand: TypeAlias = QueueStatusCmd | QueueLoginCmd | QueueHelp

_Verb = Literal["status", "login", "logout", "help"]
_VERBS: dict[str, _Verb] = {
    "status": "status",
    "show": "status",
    "list": "status",
    "login": "login",
    "in": "login",
    "log in": "login",
    "sign in": "login",
    "logout": "logout",
    "out": "logout",
    "log out": "logout",
    "sign out": "logout",
    "help": "help",
    "?": "help",
}
_QUOTES = "\"'\u201c\u201d\u2018\u2019"
_MAX_GROUP_CHARS = 100


def parse_queue(text: str) -> QueueCommand | UsageError:
    """Parse the text of ``/queue``; never raises.

    Empty text means ``status``. Queue names may contain spaces (``status customer
    support``) and may be quoted.
    """
    words = text.split()
    if not words:
        return QueueStatusCmd()
    two = " ".join(words[:2]).lower()
    if two in _VERBS:
        verb, rest = _VERBS[two], words[2:]
    elif words[0].lower() in _VERBS:
        verb, rest = _VERBS[words[0].lower()], words[1:]
    else:
        return UsageError(
            f"I don't know {quote(words[0])} here. Use status, login, logout or help, "
            "optionally followed by a queue name.",
            "/queue status customer support",
        )
    group = slack_unescape(" ".join(rest)).strip(_QUOTES).strip() or None
    if verb == "help":
        return QueueHelp()
    if group is not None and len(group) > _MAX_GROUP_CHARS:
        return UsageError("That queue name is too long; a word or two of it is enough.", f"/queue {verb} sales")
    if verb == "status":
        return QueueStatusCmd(group)
    return QueueLoginCmd(group, login=verb == "login")
