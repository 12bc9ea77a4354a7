"""Issue 13 point 10: nothing typed, pasted or sent by a vendor reaches the terminal as a control sequence."""

from __future__ import annotations

import pytest

from bot.console import render
from bot.terminal import printable
from handlers.reply import Reply


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Jens \x1b[31mRed\x1b[0m Jensen", "Jens Red Jensen"),  # CSI colours
        ("title\x1b]0;pwned\x07 set", "title set"),  # OSC (a window title): gone with its payload
        ("bell\x07 and back\x08space", "bell and backspace"),
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        ("\x9b31m C1 CSI", "31m C1 CSI"),
    ],
    ids=["csi", "osc", "c0", "newline-tab-kept", "c1"],
)
def test_control_sequences_are_dropped_and_text_kept(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_a_vendors_text_in_a_reply_reaches_the_terminal_without_its_escapes() -> None:
    out = render(Reply(text="Calling *Acme \x1b[2J\x1b[HCorp*"), color=True)
    assert "\x1b[2J" not in out and "\x1b[H" not in out and "Acme Corp" in out
