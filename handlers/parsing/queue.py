"""``/queue``: ``status``, ``login`` or ``logout``, each with an optional ``@person`` and queue (group) name.

``@person`` (a Slack mention, first after the verb) acts on that person's queues instead of the
caller's own; whether the caller may is the handler's business (``bot.permissions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from handlers.parsing.common import UsageError, contains_user_mention, parse_user_mention, quote, slack_unescape

__all__ = ["QueueCommand", "QueueHelp", "QueueLoginCmd", "QueueStatusCmd", "parse_queue"]


@dataclass(frozen=True, slots=True)
class QueueStatusCmd:
    """Show queue status: all of the caller's queues (``user``'s, when named), or those matching ``group``."""

    group: str | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class QueueLoginCmd:
    """Log the caller (``user``, when named) in (``login=True``) or out of ``group``, or of the one queue."""

    group: str | None
    login: bool
    user: str | None = None


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
    support``) and may be quoted. A mention right after the verb names whose queues
    (``login @alice sales``); a mention alone is that person's status.
    """
    words = text.split()
    if not words:
        return QueueStatusCmd()
    two = " ".join(words[:2]).lower()
    if two in _VERBS:
        verb, rest = _VERBS[two], words[2:]
    elif words[0].lower() in _VERBS:
        verb, rest = _VERBS[words[0].lower()], words[1:]
    elif parse_user_mention(words[0]) is not None:  # "/queue @alice": her queues' status
        verb, rest = "status", words
    else:
        return UsageError(
            f"I don't know {quote(words[0])} here. Use status, login, logout or help, "
            "optionally followed by a queue name.",
            "/queue status customer support",
        )
    if verb == "help":
        return QueueHelp()
    user = parse_user_mention(rest[0]) if rest else None
    if user is not None:
        rest = rest[1:]
    if contains_user_mention(" ".join(rest)):
        return UsageError("Name one person, right after the verb, and then the queue.", f"/queue {verb} @alice sales")
    group = slack_unescape(" ".join(rest)).strip(_QUOTES).strip() or None
    if group is not None and len(group) > _MAX_GROUP_CHARS:
        return UsageError("That queue name is too long; a word or two of it is enough.", f"/queue {verb} sales")
    if verb == "status":
        return QueueStatusCmd(group, user=user)
    return QueueLoginCmd(group, login=verb == "login", user=user)
