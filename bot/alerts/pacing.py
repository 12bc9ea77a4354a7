"""Per-channel pacing shared by every replica: Slack allows about one message per second per channel.

Each call reserves the channel's next free slot in Redis (one Lua script, Redis's own clock)
and says how long to wait for it, so two replicas posting to one channel never burst. A 429
pushes the channel's next slot out by ``Retry-After``.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bot.alerts.queue import AlertKeys
from bot.slots import HOLD_OFF, RESERVE


class ChannelPacer:
    """Spaces Slack writes to a channel at least ``interval`` seconds apart, across processes."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys, *, interval: float = 1.0) -> None:
        self.keys = keys
        self.interval_ms = max(0, int(interval * 1000))
        self._reserve = redis.register_script(RESERVE)
        self._penalise = redis.register_script(HOLD_OFF)

    async def wait_turn(self, channel: str) -> float:
        """Sleep until this caller's reserved slot in ``channel``; returns the seconds waited."""
        wait_ms = int(await self._reserve(keys=[self.keys.pace(channel)], args=[self.interval_ms]))
        if wait_ms > 0:
            await asyncio.sleep(wait_ms / 1000)
        return wait_ms / 1000

    async def hold_off(self, channel: str, seconds: float) -> None:
        """Nobody writes to ``channel`` for ``seconds`` (Slack said 429 + Retry-After)."""
        await self._penalise(keys=[self.keys.pace(channel)], args=[int(seconds * 1000)])
