"""``/phonebot``: ``help [topic]`` and ``whoami``; new sub-commands go in ``_SUBCOMMANDS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from handlers.parsing.common import UsageError, quote
from handlers.parsing.help import HELP

__all__ = ["Help", "PhonebotCommand", "WhoAmI", "parse_phonebot"]


@dataclass(frozen=True, slots=True)
class Help:
    """Show help: the overview when ``topic`` is ``None``, else one command's (a key of ``HELP``)."""

    topic: str | None = None


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """Show the caller's linked phone-system identity and what the vendor supports."""


PhonebotCommand: TypeAlias = Help | WhoAmI


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


_SUBCOMMANDS: dict[str, Callable[[list[str]], PhonebotCommand | UsageError]] = {
    "help": _help,
    "?": _help,
    "whoami": _whoami,
    "me": _whoami,
}
