"""Running the work a Slack request asked for after its ack, and posting the answer.

Shared by the listeners that work in the acking process (buttons, the embedded store) and by the
command workers that take slash commands off the durable queue (:mod:`handlers.commands`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from ssl import SSLContext

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.errors import explain
from handlers.limits import WorkBusy, WorkLimiter
from handlers.reply import Reply

log = logging.getLogger(__name__)

SLOW_NOTICE = ":hourglass_flowing_sand: Working on it; the phone system is slow to answer\u2026"
QUEUED_NOTICE = ":hourglass_flowing_sand: phonebot is busy right now; your request is queued and will run shortly\u2026"
BUSY_REPLY = ":hourglass: phonebot was too busy to get to this in time. Nothing was changed; try again in a minute."

#: Posts one reply where the request's answers go (its ``response_url``).
Send = Callable[[Reply], Awaitable[None]]


async def run_work(
    work: Callable[[], Awaitable[Reply]],
    *,
    notify_slow: Callable[[], Awaitable[None]],
    notice_after: float,
    limiter: WorkLimiter | None = None,
    notify_queued: Callable[[], Awaitable[None]] | None = None,
) -> Reply:
    """Run a handler, nudging the user once if it is slow; any error becomes a kind reply.

    With a ``limiter`` the work first waits for a free slot; if it is still waiting after
    ``notice_after``, the one nudge is ``notify_queued`` (when given) instead of ``notify_slow``.
    """
    started = asyncio.Event()

    async def bounded() -> Reply:
        if limiter is None:
            started.set()
            return await work()
        async with limiter.slot():
            started.set()
            return await work()

    task = asyncio.ensure_future(bounded())
    done, _ = await asyncio.wait({task}, timeout=notice_after)
    if not done:
        nudge = notify_queued if notify_queued is not None and not started.is_set() else notify_slow
        try:
            await nudge()
        except Exception:  # the nudge is a courtesy; never let it sink the real answer
            log.warning("could not send the slow-vendor notice", exc_info=True)
    try:
        return await task
    except WorkBusy:
        return Reply(text=BUSY_REPLY)
    except Exception as exc:
        return explain(exc)


def response_url_sender(
    response_url: str | None,
    session: aiohttp.ClientSession | None,
    *,
    proxy: str | None = None,
    ssl: SSLContext | None = None,
) -> Send:
    """Post replies to ``response_url`` through ``session`` (the process's shared Slack connections).

    slack_sdk's webhook client (and Bolt's ``respond()``) opens a new session — a new connection —
    per post unless it is given one.
    """

    async def send(reply: Reply) -> None:
        if response_url is None:
            raise ValueError("this request has no response_url")
        webhook = AsyncWebhookClient(url=response_url, session=session, proxy=proxy, ssl=ssl)
        await webhook.send_dict(reply.to_slack())

    return send
