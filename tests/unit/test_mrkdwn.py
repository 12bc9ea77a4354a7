"""User text in usage answers is data: it can't ping anyone, plant a link or break the example's code span."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.mrkdwn import code_span, escape
from handlers.parsing import UsageError, parse_call, parse_queue
from handlers.parsing.common import quote
from handlers.reply import usage

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<@U0ALICE>",
    "<https://evil.example|Call back>",
    "a`b",
    "``",
    "x & y",
    "<!subteam^S1>",
]


def _live_markup(text: str) -> bool:
    """Whether ``text`` still holds something Slack would render as a mention, link or entity from input."""
    return bool(re.search(r"<[!@#]|<https?:", text))


def test_escape_and_code_span() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert code_span("/presence a`b\nc") == "`/presence a'b c`"


@given(st.sampled_from(HOSTILE) | st.text(max_size=80))
def test_quoted_input_and_examples_never_carry_live_markup_or_extra_backticks(junk: str) -> None:
    reply = usage(f"I couldn't read {quote(junk)}.", f"/presence {junk} until 14:00")
    assert not _live_markup(reply.text)
    example_line = reply.text.rsplit("\n", 1)[1]
    assert example_line.count("`") == 2  # exactly one code span, whatever the input held


def test_parser_answers_to_hostile_input_are_plain_text() -> None:
    for text in ("<!channel> `oops", "call <https://evil.example|me>"):
        for parsed in (parse_call(text, default_country="DK"), parse_queue(f"frobnicate {text}")):
            if isinstance(parsed, UsageError):
                answer = usage(parsed.message, parsed.example).text
                assert not _live_markup(answer), answer
                assert answer.rsplit("\n", 1)[1].count("`") == 2
