"""The supervisor restarts what crashes, counts it, and leaves alone what finished."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from bot.metrics import TASK_RESTARTS
from bot.supervisor import Supervisor


def restarts(name: str) -> float:
    return TASK_RESTARTS.labels(name)._value.get()


async def wait_for(check: object, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met"
        await asyncio.sleep(0.005)


async def test_a_crashing_task_is_logged_counted_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop, first_delay=0.01, max_delay=0.02)
    runs = 0
    before = restarts("crashy")

    async def crashy() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise KeyError("channel")
        await stop.wait()

    with caplog.at_level(logging.ERROR, logger="bot.supervisor"):
        supervisor.start("crashy", crashy)
        await wait_for(lambda: runs == 3 and supervisor.running("crashy"))
    assert restarts("crashy") == before + 2
    crashes = [r for r in caplog.records if "crashy crashed" in r.getMessage()]
    assert len(crashes) == 2 and all(r.exc_info and r.exc_info[0] is KeyError for r in crashes)
    await supervisor.stop(timeout=1)
    assert not supervisor.running("crashy")


async def test_while_waiting_to_restart_the_task_is_not_running_and_the_wait_grows() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop, first_delay=0.05, max_delay=0.2)
    started: list[float] = []

    async def always_fails() -> None:
        started.append(asyncio.get_running_loop().time())
        raise RuntimeError("boom")

    supervisor.start("failing", always_fails)
    await wait_for(lambda: len(started) >= 4)
    assert not supervisor.running("failing")
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09 and gaps[2] >= 0.18  # doubling
    await supervisor.stop(timeout=1)
    count = len(started)
    await asyncio.sleep(0.3)
    assert len(started) == count  # stopped means no more restarts


async def test_a_task_that_returns_is_done_and_not_restarted() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop, first_delay=0.01)
    runs = 0

    async def once() -> None:
        nonlocal runs
        runs += 1

    supervisor.start("once", once)
    await asyncio.sleep(0.1)
    assert runs == 1 and not supervisor.running("once") and supervisor.supervised("once")
    await supervisor.stop(timeout=1)


async def test_stop_cancels_the_named_tasks_and_waits_for_the_others() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    finished: list[str] = []

    async def blocked() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            finished.append("blocked")

    async def polite() -> None:
        await stop.wait()
        finished.append("polite")

    supervisor.start("blocked", blocked)
    supervisor.start("polite", polite)
    await asyncio.sleep(0.01)
    await asyncio.wait_for(supervisor.stop(cancel=["blocked"], timeout=1), timeout=2)
    assert sorted(finished) == ["blocked", "polite"]
