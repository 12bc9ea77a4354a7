"""Issue 13 point 10: ``phonebot console`` in a real terminal (a pseudo-terminal), typed at like a person would.

Line editing and history come from readline (the up arrow recalls the last command), Ctrl-C drops the line
being typed and never swallows the next one, a pasted escape sequence never reaches the screen raw, and
Ctrl-D leaves on a clean line with exit status 0.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

UP = b"\x1b[A"


class Typist:
    """The console on a pseudo-terminal: what it printed so far, and keys sent to it."""

    def __init__(self, fd: int, pid: int) -> None:
        self.fd, self.pid, self.seen = fd, pid, b""

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait_for(self, text: bytes, *, after: int = 0, timeout: float = 30) -> int:
        """Read until ``text`` shows after offset ``after``; returns where it ends."""
        deadline = time.monotonic() + timeout
        while (found := self.seen.find(text, after)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} never showed; the screen so far: {self.seen[-2000:]!r}"
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.fd, 4096)
                except OSError:  # the child closed the terminal
                    break
        assert found >= 0, f"{text!r} never showed: {self.seen[-2000:]!r}"
        return found + len(text)

    def prompt(self, after: int = 0) -> int:
        return self.wait_for(b"> ", after=after)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Typist]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "PHONEBOT_"))}
    env.update(PHONEBOT_HISTORY=str(tmp_path / "history"), TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console, with the pseudo-terminal as its terminal
        os.execve(sys.executable, [sys.executable, "-m", "bot.cli", "console", "--simulate"], env)
    typist = Typist(fd, pid)
    try:
        yield typist
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0) if _alive(pid) else None
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return finished == 0


def test_editing_history_ctrl_c_and_ctrl_d_behave_as_in_a_shell(console: Typist) -> None:
    at = console.wait_for(b"Ctrl-D to quit")
    at = console.prompt(at)
    console.type(b"/phonebot whoami\r")
    at = console.wait_for(b"Alice Andersen, alice@example.com", after=at)
    at = console.prompt(at)

    console.type(b"/presence this line is abandoned")  # typed (readline echoes it), then Ctrl-C: dropped
    at = console.wait_for(b"abandoned", after=at)
    console.type(b"\x03")
    at = console.prompt(at)
    console.type(b"/queue status\r")  # the next line is read, not swallowed by the abandoned one
    at = console.wait_for(b"Support", after=at)
    assert b"abandoned" not in console.seen[at:] and b"Unknown command" not in console.seen
    at = console.prompt(at)

    console.type(UP + UP + b"\r")  # history: two up, the whoami again
    at = console.wait_for(b"Alice Andersen, alice@example.com", after=at)
    at = console.prompt(at)

    # A raw escape sequence in the line (Ctrl-V inserts the ESC literally) is dropped, never obeyed or shown.
    console.type(b"/presence \x16\x1b[31mlunch 45m\r")
    at = console.wait_for(b"Your phone presence is now", after=at)
    assert b"\x1b[31m" not in console.seen
    at = console.prompt(at)

    console.type(b"\x04")  # Ctrl-D: leaves on a line of its own, status 0
    console.wait_for(b"\r\n", after=at)
    deadline = time.monotonic() + 20
    while True:
        finished, status = os.waitpid(console.pid, os.WNOHANG)
        if finished:
            break
        assert time.monotonic() < deadline, "the console did not leave on Ctrl-D"
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0 and console.seen.endswith(b"> \r\n")
