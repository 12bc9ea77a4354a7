"""``phonebot console``: type slash commands as in Slack, read the replies in the terminal.

It runs the very same handlers as the Slack app; only the transport differs. Buttons are
shown numbered: type the number to click one. ``@bob`` is sent as Slack would send a
mention (``<@U0BOB|bob>``).
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from bot.slack_users import SlackUser, StaticUserDirectory
from bot.terminal import Interrupted, Terminal, printable
from handlers.call import PICK_ACTION, call_command, call_pick_action
from handlers.context import Services
from handlers.phonebot import phonebot_command
from handlers.presence import presence_command
from handlers.queue import LOGIN_PICK_ACTION, queue_command, queue_login_pick_action
from handlers.reply import Button, Reply
from handlers.work import run_work

if TYPE_CHECKING:
    from bot.console_alerts import AlertButton, ConsoleAlerts, ShownAlert

COMMANDS: dict[str, Callable[..., Awaitable[Reply]]] = {
    "/presence": presence_command,
    "/call": call_command,
    "/queue": queue_command,
    "/phonebot": phonebot_command,
}

_EMOJI = {
    ":white_check_mark:": "✔",
    ":telephone_receiver:": "☎",
    ":hourglass_flowing_sand:": "⏳",
    ":hourglass:": "⏳",
    ":warning:": "⚠",
    ":x:": "✘",
    ":no_entry_sign:": "⛔",
    ":link:": "🔗",
    ":closed_lock_with_key:": "🔐",
    ":lock:": "🔒",
    ":repeat:": "🔁",
    ":mag:": "🔍",
    ":red_circle:": "🔴",
    ":large_green_circle:": "🟢",
    ":raising_hand:": "🙋",
    ":ear:": "👂",
    ":zzz:": "💤",
    ":wave:": "👋",
    ":bell:": "🔔",
    ":rotating_light:": "🚨",
    ":incoming_envelope:": "📨",
    ":wastebasket:": "🗑",
}


def render(reply: Reply, *, color: bool, names: dict[str, str] | None = None) -> str:
    """Slack mrkdwn to readable terminal text; ``names`` maps Slack user ids to handles."""
    names = names or {}
    lines = [_plain(reply.text, color=color, names=names)]
    for index, button in enumerate(reply.buttons, start=1):
        lines.append(f"  [{index}] {_plain(button.label, color=color, names=names)}")
    if reply.buttons:
        lines.append("  (type the number to choose)")
    if reply.context:
        lines.append(_dim(_plain(reply.context, color=color, names=names), color=color))
    return "\n".join(lines)


def _plain(text: str, *, color: bool, names: dict[str, str]) -> str:
    text = printable(text)  # vendor or user text: no escape sequence of theirs reaches the terminal
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    text = re.sub(
        r"<@([A-Z0-9]+)(?:\|([^>]+))?>", lambda m: "@" + (m.group(2) or names.get(m.group(1), m.group(1))), text
    )
    bold = (lambda s: f"\033[1m{s}\033[0m") if color else (lambda s: s)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", lambda m: bold(m.group(1)), text)
    return text.replace("`", "")


def _dim(text: str, *, color: bool) -> str:
    return f"\033[2m{text}\033[0m" if color else text


@dataclass
class Console:
    """A REPL over the handlers for one pretend Slack user."""

    services: Services
    user: SlackUser
    directory: StaticUserDirectory
    out: TextIO = sys.stdout
    color: bool = False
    last_buttons: list[Button] = field(default_factory=list)
    #: With ``--simulate``: channel alerts shown as they happen, and ``/simulate``.
    alerts: ConsoleAlerts | None = None
    #: The buttons of the alert shown last; numbers click these while no reply's buttons are showing.
    alert_buttons: list[AlertButton] = field(default_factory=list)

    def show_alert(self, alert: ShownAlert) -> None:
        """Print a channel alert as it arrives; its buttons become the numbered ones."""
        if alert.buttons:
            self.alert_buttons = list(alert.buttons)
            self.last_buttons = []
        names = {user.id: handle for handle, user in self._handles().items()}
        print(_plain(alert.text, color=self.color, names=names), file=self.out, flush=True)

    def _handles(self) -> dict[str, SlackUser]:
        return {u.email.split("@")[0].lower() if u.email else u.id: u for u in self.directory.users.values()}

    def _render(self, reply: Reply) -> str:
        names = {user.id: handle for handle, user in self._handles().items()}
        return render(reply, color=self.color, names=names)

    def _mentions(self, text: str) -> str:
        by_handle = self._handles()

        def escape(match: re.Match[str]) -> str:
            handle = match.group(1).lower()
            user = by_handle.get(handle)
            return f"<@{user.id}|{handle}>" if user else match.group(0)

        return re.sub(r"(?<![<\w])@([A-Za-z][\w.-]*)", escape, text)

    async def handle_line(self, line: str) -> str | None:
        """Run one input line; returns the rendered reply (None for blank lines)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        if line.isdigit() and self.last_buttons:
            return await self._click(int(line))
        if line.isdigit() and self.alert_buttons:
            return await self._click_alert(int(line))
        command, _, text = line.partition(" ")
        if command.lower() == "/simulate":
            if self.alerts is None:
                return "/simulate works in phonebot console --simulate, where the phone systems are simulated."
            return await self.alerts.simulate(text)
        handler = COMMANDS.get(command.lower())
        if handler is None:
            known = ", ".join([*COMMANDS, "/simulate"] if self.alerts is not None else COMMANDS)
            return f"Unknown command {command!r}. Try one of {known} (e.g. /phonebot help)."
        notices: list[str] = []

        async def notify_slow() -> None:
            notices.append(self._render(Reply(text=":hourglass_flowing_sand: Working on it…")))
            print(notices[-1], file=self.out, flush=True)

        reply = await run_work(
            lambda: handler(self.services, user_id=self.user.id, text=self._mentions(text.strip())),
            notify_slow=notify_slow,
            notice_after=self.services.config.slow_notice_seconds,
        )
        self.last_buttons = list(reply.buttons)
        if reply.buttons:
            self.alert_buttons = []
        return self._render(reply)

    async def _click_alert(self, number: int) -> str:
        if not 1 <= number <= len(self.alert_buttons):
            return f"Choose a number from 1 to {len(self.alert_buttons)}."
        assert self.alerts is not None
        button = self.alert_buttons[number - 1]
        alerts = self.alerts

        async def quiet() -> None:
            return None

        reply = await run_work(lambda: alerts.click(button, self.user.id), notify_slow=quiet, notice_after=30)
        return self._render(reply)

    async def _click(self, number: int) -> str:
        if not 1 <= number <= len(self.last_buttons):
            return f"Choose a number from 1 to {len(self.last_buttons)}."
        button = self.last_buttons[number - 1]
        self.last_buttons = []
        action = button.action_id.split(":", 1)[0]
        if action == PICK_ACTION:
            work = lambda: call_pick_action(self.services, user_id=self.user.id, value=button.value)  # noqa: E731
        elif action == LOGIN_PICK_ACTION:
            work = lambda: queue_login_pick_action(self.services, user_id=self.user.id, value=button.value)  # noqa: E731
        else:
            return "That button does nothing in the console."

        async def quiet() -> None:
            return None

        reply = await run_work(work, notify_slow=quiet, notice_after=30)
        return self._render(reply)

    async def run(self, stream: TextIO) -> None:
        """Read commands until EOF: from a terminal with line editing (:mod:`bot.terminal`), else line by line."""
        if stream.isatty() and stream is sys.stdin:
            await self._run_terminal(Terminal())
            return
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, stream.readline)
            if not line:
                if self.alerts is not None:  # what the last click changed still shows before the console ends
                    await self.alerts.settle()
                break
            line = printable(line)
            if line.strip():
                print(f"> {line.strip()}", file=self.out)
            output = await self.handle_line(line)
            if output is not None:
                print(output, file=self.out, flush=True)

    async def _run_terminal(self, terminal: Terminal) -> None:
        print(f"phonebot console — you are {self.user.name}. Type /phonebot help, Ctrl-D to quit.", file=self.out)
        try:
            while True:
                try:
                    # Nothing else runs in the console's loop while it waits for a line (the simulators have
                    # threads of their own), so reading on the main thread blocks nothing; it is what lets
                    # readline and Ctrl-C behave as in a shell.
                    line = terminal.read("> ")
                except Interrupted:
                    continue
                except KeyboardInterrupt:  # Ctrl-C a moment before the prompt showed: the same, a fresh prompt
                    print(file=self.out, flush=True)
                    continue
                if line is None:
                    return
                output = await self._interruptible(line)
                if output is not None:
                    print(output, file=self.out, flush=True)
        finally:
            terminal.close()

    async def _interruptible(self, line: str) -> str | None:
        """Run ``line``; Ctrl-C stops waiting for it (a call already asked for may still ring)."""
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(self.handle_line(line))
        try:
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        except (NotImplementedError, RuntimeError):  # no signal handlers here (not the main thread)
            return await task
        try:
            return await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            return "Stopped waiting. If that was a call, your phone may still ring; nothing is retried."
        finally:
            loop.remove_signal_handler(signal.SIGINT)
