"""Vendor work after the ack is bounded per process (issue 8, point 7)."""

from __future__ import annotations

import asyncio

from handlers.limits import WorkLimiter
from handlers.reply import Reply
from handlers.work import BUSY_REPLY, run_work


async def test_work_beyond_the_limit_waits_its_turn_and_is_told_it_is_queued() -> None:
    limiter = WorkLimiter(2, max_wait=5)
    running = 0
    most = 0
    notices: list[str] = []
    release = asyncio.Event()

    async def work() -> Reply:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1
        return Reply(text="done")

    def job(name: str) -> asyncio.Task[Reply]:
        async def slow() -> None:
            notices.append(f"{name}:slow")

        async def queued() -> None:
            notices.append(f"{name}:queued")

        return asyncio.create_task(
            run_work(work, notify_slow=slow, notice_after=0.05, limiter=limiter, notify_queued=queued)
        )

    jobs = [job(f"j{i}") for i in range(5)]
    await asyncio.sleep(0.15)
    assert limiter.running == 2 and limiter.queued == 3
    # One nudge each: the two running are slow, the three waiting are queued.
    assert sorted(notices) == ["j0:slow", "j1:slow", "j2:queued", "j3:queued", "j4:queued"]
    release.set()
    replies = await asyncio.gather(*jobs)
    assert [r.text for r in replies] == ["done"] * 5
    assert most == 2 and limiter.running == 0 and limiter.queued == 0


async def test_work_that_waits_too_long_is_refused_kindly_and_never_runs() -> None:
    limiter = WorkLimiter(1, max_wait=0.1)
    hold = asyncio.Event()
    ran: list[str] = []

    async def blocker() -> Reply:
        await hold.wait()
        return Reply(text="first")

    async def late() -> Reply:
        ran.append("late")
        return Reply(text="late")

    async def quiet() -> None:
        return None

    first = asyncio.create_task(run_work(blocker, notify_slow=quiet, notice_after=5, limiter=limiter))
    await asyncio.sleep(0.01)
    reply = await run_work(late, notify_slow=quiet, notice_after=5, limiter=limiter)
    assert reply.text == BUSY_REPLY and ran == []
    hold.set()
    assert (await first).text == "first"
