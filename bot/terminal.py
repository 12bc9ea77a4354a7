"""The console's terminal: line editing and history (GNU readline), Ctrl-C, Ctrl-D, and no raw escape sequences.

* Lines are read with :func:`input` on the main thread with readline loaded, so arrows, Home/End and history
  work as in a shell; history is kept (at most ``HISTORY_LINES``) in ``$PHONEBOT_HISTORY`` or
  ``~/.phonebot_history``.
* Ctrl-C at the prompt drops the line being typed and gives a fresh prompt (it never swallows the next
  line); Ctrl-C while a command runs stops waiting for it (the caller says what that means).
* Ctrl-D ends the session on a clean line.
* Control characters — typed, pasted or in a reply from a vendor — never reach the screen raw:
  :func:`printable` drops them (newlines and tabs stay), so only phonebot's own colours are escape codes.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

HISTORY_LINES = 1000
#: OSC strings (title, hyperlink: their payload is not text), CSI sequences, other escapes, C0/C1 controls.
_CONTROL = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]"
)


def printable(text: str) -> str:
    """``text`` without terminal control sequences or control characters (``\\n`` and ``\\t`` are kept)."""
    return _CONTROL.sub("", text)


class Interrupted(Exception):
    """Ctrl-C at the prompt: the line being typed is dropped."""


class Terminal:
    """Reads lines from an interactive terminal; see the module docstring."""

    def __init__(self, history: Path | None = None) -> None:
        self.history = history or Path(os.environ.get("PHONEBOT_HISTORY") or Path.home() / ".phonebot_history")
        self._readline: ModuleType | None
        try:
            import readline  # loading it gives input() line editing and history
        except ImportError:  # a Python built without it: plain input() still works
            self._readline = None
        else:
            self._readline = readline
            readline.set_history_length(HISTORY_LINES)
            with contextlib.suppress(OSError):  # no history yet, or unreadable: start without
                readline.read_history_file(self.history)

    def read(self, prompt: str) -> str | None:
        """One line (control characters dropped); ``None`` at Ctrl-D.

        Raises:
            Interrupted: Ctrl-C while typing.
        """
        try:
            with _ctrl_c_raises():
                line = input(prompt)
        except EOFError:
            print(flush=True)  # leave the shell's prompt on a line of its own
            return None
        except KeyboardInterrupt:
            print(flush=True)
            raise Interrupted from None
        return printable(line)

    def close(self) -> None:
        """Keep the history for next time."""
        if self._readline is not None:
            with contextlib.suppress(OSError):  # a read-only home: history is only lost, nothing else
                self._readline.write_history_file(self.history)


@contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """While reading, Ctrl-C raises at once in :func:`input` (asyncio's own handler would only cancel a task)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
