"""Command worker processes: started and kept running by ``phonebot serve``, one job each.

The serving process acks; its event loop must never wait behind a command's vendor calls and
answer (on two cores, a burst of 150 commands a second spends most of its CPU there). So the work
runs in child processes — at a lower CPU priority (``nice``), because an ack has three seconds and
an answer through ``response_url`` has thirty minutes. Each child is
``python -m bot.commands.process``, handed the settings and configuration over its stdin (never in
its environment or a file, since they hold secrets); it stops when told (SIGTERM), and by itself
when its parent is gone. Its supervisor in the serving process starts it again if it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import sys
from typing import Any

from bot.config import PhonebotConfig, Settings

log = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0


class WorkerExited(Exception):
    """A command worker process ended without being told to."""


async def run_worker_process(settings: Settings, config: PhonebotConfig, *, nice: int, index: int) -> None:
    """Start one worker process and wait for it; raises :class:`WorkerExited` if it ends by itself.

    Cancelled (phonebot is stopping): the child is asked to stop, and killed if it has not in time.
    """
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.commands.process",
        str(nice),
        stdin=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None
    child.stdin.write(pickle.dumps((settings, config)))
    await child.stdin.drain()
    child.stdin.close()
    log.info("command worker %d started (pid %d, nice +%d)", index, child.pid, nice)
    try:
        code = await child.wait()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
        try:
            await asyncio.wait_for(child.wait(), timeout=STOP_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
        raise
    raise WorkerExited(f"command worker {index} (pid {child.pid}) exited with {code}")


async def _serve_commands(settings: Settings, config: PhonebotConfig) -> None:
    from bot.runtime import build_command_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    parent = os.getppid()

    async def watch_parent() -> None:
        while not stop.is_set():
            if os.getppid() != parent:  # the serving process is gone: nobody would restart or stop us
                log.warning("phonebot serve is gone; this command worker stops")
                stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=PARENT_CHECK_SECONDS)

    worker, aclose = build_command_worker(settings, config)
    watcher = asyncio.create_task(watch_parent())
    try:
        await worker.run(stop)
    finally:
        stop.set()
        await watcher
        await aclose()


def main(argv: list[str] | None = None) -> None:
    """The child: read the settings and configuration from stdin, lower the priority, serve commands."""
    args = sys.argv[1:] if argv is None else argv
    nice = int(args[0]) if args else 0
    loaded: Any = pickle.loads(sys.stdin.buffer.read())  # from our own parent, over a pipe only it holds
    settings, config = loaded
    if not isinstance(settings, Settings) or not isinstance(config, PhonebotConfig):
        raise SystemExit("phonebot command worker: expected settings and a configuration on stdin")
    if nice:
        os.nice(nice)
    from bot.logs import setup_logging

    setup_logging(settings.phonebot_log_level, settings.phonebot_log_format)
    asyncio.run(_serve_commands(settings, config))


if __name__ == "__main__":
    main()
