"""Building blocks shared by the slash-command parsers: the error value, mentions, quoting."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.mrkdwn import escape

__all__ = ["UsageError", "contains_user_mention", "parse_user_mention", "quote", "slack_unescape"]

# Slack escapes user mentions as <@U123ABC|alice> or <@U123ABC> when the command has
# should_escape: true. W... ids are Enterprise Grid users.
_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")

_QUOTE_LIMIT = 40


@dataclass(frozen=True, slots=True)
class UsageError:
    """Input a parser could not turn into a command.

    It is a value, not an exception: parsers return it so that every handler has to deal
    with it. ``message`` says kindly what was wrong; ``example`` is a complete command
    that works (without backticks, the reply adds the formatting).
    """

    message: str
    example: str


def parse_user_mention(token: str) -> str | None:
    """The Slack user id in an escaped mention such as ``<@U123ABC|alice>``, else ``None``."""
    match = _MENTION_RE.fullmatch(token.strip())
    return match.group(1) if match else None


def contains_user_mention(text: str) -> bool:
    """Whether ``text`` contains an escaped user mention anywhere."""
    return _MENTION_RE.search(text) is not None


def slack_unescape(text: str) -> str:
    """Undo the HTML escaping Slack applies to ``&``, ``<`` and ``>`` in command text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def quote(text: str) -> str:
    """``text`` in curly quotes for a message, shortened so a pasted essay stays readable.

    It is the user's own text, so it is escaped, and a backtick in it can't open a code span.
    """
    text = " ".join(text.split()).replace("`", "'")
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 1].rstrip() + "\u2026"
    return f"\u201c{escape(text)}\u201d"
