"""Channel alerts in ``phonebot console --simulate``: the real alert pipeline, posting to a local sink.

The pipeline (:class:`~bot.alerts.service.AlertService`: durable queue on the console's embedded
store, poller, worker, the same Block Kit rendering) runs in the console's event loop; its Slack
client points at :class:`~bot.alerts.local_slack.LocalSlack`, whose writes come back here as
:class:`ChannelWrite` and are shown as text with numbered buttons. A number clicks the button
through :class:`handlers.alert_actions.AlertActions`, the code Slack's buttons use.

``/simulate lost-call|voicemail|queue-burst`` changes the simulated phone system; the poller
notices it on its next round, exactly as it would notice the real vendor.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.alerts.local_slack import ChannelWrite, LocalSlack
from bot.alerts.poller import cursor_key
from bot.alerts.service import AlertService
from bot.simulate import SimulatedPhoneSystems
from bot.supervisor import Supervisor
from bot.terminal import printable
from handlers.alert_actions import ALERT_ACTIONS, AlertActions, Click
from handlers.reply import Reply

log = logging.getLogger("phonebot.alerts")

#: The channel the simulation routes every alert to.
CONSOLE_CHANNEL = "#phones"
#: How long ``/simulate`` waits for the alert it caused before saying it is still on its way.
SIMULATE_WAIT_SECONDS = 15.0
#: How long the console waits, at the end of piped input, for the pipeline to finish what is pending.
SETTLE_SECONDS = 5.0
#: Writes waiting to be shown; beyond this the oldest are dropped (a terminal nobody reads).
MAX_PENDING_WRITES = 500
#: Numbered buttons shown per alert, at most.
MAX_BUTTONS = 9

SIMULATIONS = ("lost-call", "voicemail", "queue-burst")
#: What each simulated vendor can produce through its poll path (the console serves no webhooks).
_SUPPORTED: dict[str, tuple[str, ...]] = {
    "dstny": SIMULATIONS,
    "relatel": ("lost-call", "voicemail"),
    "tele2": ("lost-call",),
}
_CALLERS = ["+4540000001", "+4522334455", "+4531415926", "+4527182818"]
_TELE2_CALLERS = ["+37069900001", "+37069900002", "+37069900003"]


@dataclass(frozen=True)
class AlertButton:
    """A clickable button of an alert message as the console shows it."""

    label: str
    action_id: str
    value: str
    channel: str
    ts: str


@dataclass
class ShownAlert:
    """An alert message rendered for the terminal (mrkdwn still; the console makes it plain)."""

    text: str
    buttons: list[AlertButton] = field(default_factory=list)


def blocks_to_text(write: ChannelWrite) -> ShownAlert:
    """The message's blocks as lines, its buttons numbered ``[1]``…; the fallback text when no blocks."""
    where = f"{write.channel} (thread)" if write.thread_ts else write.channel
    head = f"── {'updated in' if write.edited else 'new in'} {where} ──"
    lines: list[str] = [head]
    buttons: list[AlertButton] = []
    for block in write.blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            lines.append(_text_of(block.get("text")))
        elif kind == "context":
            lines.extend("  " + _text_of(element) for element in block.get("elements", []) if isinstance(element, dict))
        elif kind == "actions":
            for element in block.get("elements", []):
                if not isinstance(element, dict) or element.get("type") != "button":
                    continue
                label = _text_of(element.get("text"))
                if element.get("url"):
                    lines.append(f"  {label}: {element['url']}")
                elif element.get("action_id") in ALERT_ACTIONS and len(buttons) < MAX_BUTTONS:
                    buttons.append(
                        AlertButton(
                            label, str(element["action_id"]), str(element.get("value", "")), write.channel, write.ts
                        )
                    )
    if not write.blocks:
        lines.append(write.text)
    lines.extend(f"  [{index}] {button.label}" for index, button in enumerate(buttons, start=1))
    if buttons:
        lines.append("  (type the number to click)")
    return ShownAlert(text="\n".join(line for line in lines if line), buttons=buttons)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return str(obj or "")


def log_write(write: ChannelWrite) -> None:
    """``serve --simulate`` without Slack: one log line per alert message written (buttons listed, not clickable)."""
    shown = blocks_to_text(write)
    numbered = re.compile(r"^\[\d+\] |^\(type the number")
    lines = [line.strip() for line in shown.text.splitlines()[1:]]
    body = " | ".join(line for line in lines if line and not numbered.match(line))
    if shown.buttons:
        body += " | buttons: " + ", ".join(button.label for button in shown.buttons)
    verb = "updated" if write.edited else "thread reply" if write.thread_ts else "new"
    log.info("alert in %s (%s, ts %s): %s", write.channel, verb, write.ts, printable(body)[:2000])


class ConsoleAlerts:
    """The console's alert feed: pipeline, sink, ``/simulate`` and alert button clicks."""

    def __init__(self, simulators: SimulatedPhoneSystems, *, vendor: str, show: Callable[[ShownAlert], None]) -> None:
        self.service: AlertService | None = None
        self.actions: AlertActions | None = None
        self.simulators = simulators
        self.vendor = vendor
        self.show = show
        self.sink = LocalSlack(self._from_sink)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writes: asyncio.Queue[ChannelWrite] = asyncio.Queue(maxsize=MAX_PENDING_WRITES)
        self._shown = asyncio.Condition()
        self._shown_count = 0
        self._stop = asyncio.Event()
        self.supervisor = Supervisor(self._stop)
        self._turn = 0

    def attach(self, service: AlertService, actions: AlertActions) -> None:
        """The pipeline posting to :attr:`sink` (built once the sink has its address) and the button actions."""
        self.service, self.actions = service, actions

    def _from_sink(self, write: ChannelWrite) -> None:
        """Called on the sink's thread: hand the write to the console's loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._enqueue, write)

    def _enqueue(self, write: ChannelWrite) -> None:
        if self._writes.full():
            self._writes.get_nowait()
        self._writes.put_nowait(write)

    async def start(self) -> None:
        """Start showing writes (the pipeline is started by the caller, pointed at :attr:`sink`)."""
        self._loop = asyncio.get_running_loop()
        self.supervisor.start("console-alert-feed", self._feed)

    async def stop(self) -> None:
        """Stop the pipeline, the feed and the sink."""
        if self.service is not None:
            await self.service.stop()
        await self.supervisor.stop(cancel=["console-alert-feed"])
        self.sink.stop()

    async def _feed(self) -> None:
        while not self._stop.is_set():
            write = await self._writes.get()
            self.show(blocks_to_text(write))
            if write.edited or write.thread_ts:  # ``/simulate`` waits for the new alert, not for edits or notes
                continue
            async with self._shown:
                self._shown_count += 1
                self._shown.notify_all()

    async def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Wait (bounded) until the pipeline has nothing pending and every write is shown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.service is not None and loop.time() < deadline:
            if (await self.service.queue_stats()).depth == 0 and self._writes.empty():
                return
            await asyncio.sleep(0.1)

    async def _first_round(self, timeout: float) -> None:
        """Wait until the poller has read the vendor once: changes made before that are taken as the past."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        assert self.service is not None, "attach() first"
        while loop.time() < deadline and await self.service.store.get(cursor_key(self.vendor)) is None:
            await asyncio.sleep(0.1)

    async def simulate(self, what: str) -> str:
        """``/simulate WHAT``: make the simulated vendor produce it; returns once its alert is shown (bounded)."""
        what = what.strip().lower()
        supported = _SUPPORTED.get(self.vendor, ())
        if what not in SIMULATIONS:
            return f"Try /simulate {', /simulate '.join(SIMULATIONS)}."
        if what not in supported:
            offered = ", ".join(supported) or "nothing"
            return f"The simulated {self.vendor} can't produce a {what} in the console; it offers {offered}."
        if what != "queue-burst":
            await self._first_round(SIMULATE_WAIT_SECONDS)
        async with self._shown:
            before = self._shown_count
        described = self._cause(what)
        try:
            async with self._shown:
                await asyncio.wait_for(
                    self._shown.wait_for(lambda: self._shown_count > before), timeout=SIMULATE_WAIT_SECONDS
                )
        except TimeoutError:
            return f"{described} Its alert has not arrived yet; it shows here when it does."
        return described

    def _cause(self, what: str) -> str:
        self._turn += 1
        sims = self.simulators
        if self.vendor == "tele2":
            caller = _TELE2_CALLERS[self._turn % len(_TELE2_CALLERS)]
            sims.tele2.lose_call(caller)
            return f"Simulated a lost call from {caller}."
        caller = _CALLERS[self._turn % len(_CALLERS)]
        if self.vendor == "relatel":
            if what == "voicemail":
                sims.relatel.add_voicemail(from_number=caller.lstrip("+"))
                return f"Simulated a voicemail from {caller}."
            sims.relatel.add_missed_call(from_number=caller.lstrip("+"))
            return f"Simulated a lost call from {caller}."
        if what == "voicemail":
            sims.dstny.leave_voicemail(caller, duration=30)
            return f"Simulated a voicemail from {caller}."
        if what == "queue-burst":
            sims.dstny.set_queue(35, waiting=8, longest_wait=240, free_agents=0)
            return "Simulated 8 calls waiting in the Support queue."
        sims.dstny.miss_call(35, caller)
        return f"Simulated a lost call from {caller} in the Support queue."

    async def click(self, button: AlertButton, user_id: str) -> Reply:
        """Click an alert button as ``user_id`` would in Slack (same checks, same effects)."""
        assert self.actions is not None, "attach() first"
        return await self.actions.handle(
            Click(
                action_id=button.action_id,
                user_id=user_id,
                value=button.value,
                channel=button.channel,
                container=button.ts,
                message_ts=button.ts,
            )
        )


def alert_config(vendor: str) -> dict[str, Any]:
    """The ``alerts:`` section of the simulation: every alert to :data:`CONSOLE_CHANNEL`, quick polling."""
    section: dict[str, Any] = {
        "routes": [{"channel": CONSOLE_CHANNEL, "name": "Phones"}],
        "poll_interval_seconds": 1.0,
    }
    if vendor == "dstny":
        section["queue_thresholds"] = [
            {"group": "Support", "vendor": "dstny", "calls_waiting": 5, "min_duration_seconds": 0}
        ]
    return section
