"""``/phonebot``: ``help [topic]``, ``whoami`` and, for admins, ``dead`` and ``replay``.

New sub-commands go in ``_SUBCOMMANDS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from handlers.parsing.common import UsageError, quote
from handlers.parsing.help import HELP

__all__ = ["DeadLetters", "Help", "PhonebotCommand", "Replay", "WhoAmI", "parse_phonebot"]

#: A dead letter's id: the Redis stream id of the parked entry (``1733100000000-0``).
DEAD_LETTER_ID = re.compile(r"\d{1,20}-\d{1,20}")
_MAX_REPLAY_IDS = 50


@dataclass(frozen=True, slots=True)
class Help:
    """Show help: the overview when ``topic`` is ``None``, else one command's (a key of ``HELP``)."""

    topic: str | None = None


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """Show the caller's linked phone-system identity and what the vendor supports."""


@dataclass(frozen=True, slots=True)
class DeadLetters:
    """List the alerts Slack never accepted (admins only)."""


@dataclass(frozen=True, slots=True)
class Replay:
    """Send dead letters again: those in ``ids``, or every one (``every``); admins only."""

    ids: tuple[str, ...] = ()
    every: bool = False


PhonebotCommand: TypeAlias = Help | WhoAmI | DeadLetters | Replay


def parse_phonebot(text: str) -> PhonebotCommand | UsageError:
    """Parse the text of ``/phonebot``; never raises. Empty text means ``help``."""
    words = text.split()
    if not words:
        return Help()
    handler = _SUBCOMMANDS.get(words[0].lower())
    if handler is None:
        return UsageError(f"I don't know {quote(words[0])}. `/phonebot help` lists what I can do.", "/phonebot help")
    return handler(words[1:])


def _help(args: list[str]) -> PhonebotCommand | UsageError:
    if not args:
        return Help()
    topic = " ".join(args).lstrip("/").lower()
    if topic in HELP:
        return Help(topic)
    topics = ", ".join(sorted(HELP))
    return UsageError(f"There's no help on {quote(' '.join(args))}. Topics: {topics}.", "/phonebot help presence")


def _whoami(args: list[str]) -> PhonebotCommand | UsageError:
    if args:
        return UsageError("`whoami` takes nothing after it.", "/phonebot whoami")
    return WhoAmI()


def _dead(args: list[str]) -> PhonebotCommand | UsageError:
    if args:
        return UsageError("`dead` takes nothing after it; `replay` sends dead letters again.", "/phonebot dead")
    return DeadLetters()


def _replay(args: list[str]) -> PhonebotCommand | UsageError:
    example = "/phonebot replay 1733100000000-0"
    if not args:
        return UsageError("Which dead letters? Give their ids (`/phonebot dead` lists them), or `all`.", example)
    if [arg.lower() for arg in args] == ["all"]:
        return Replay(every=True)
    wrong = next((arg for arg in args if not DEAD_LETTER_ID.fullmatch(arg)), None)
    if wrong is not None:
        return UsageError(f"{quote(wrong)} isn't a dead letter id; they look like 1733100000000-0.", example)
    if len(args) > _MAX_REPLAY_IDS:
        return UsageError(f"At most {_MAX_REPLAY_IDS} ids at once, or `all`.", "/phonebot replay all")
    return Replay(ids=tuple(dict.fromkeys(args)))


_SUBCOMMANDS: dict[str, Callable[[list[str]], PhonebotCommand | UsageError]] = {
    "help": _help,
    "?": _help,
    "whoami": _whoami,
    "me": _whoami,
    "dead": _dead,
    "replay": _replay,
}
