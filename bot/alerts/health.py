"""Small health counters of one alert pipeline, kept in Redis where the events happen.

Per vendor: when the last event arrived and how (webhook or poll), when a poll round last
succeeded (poll lag), what the last webhook registration said, and how many errors and
rate-limit pauses the last hour saw. Everything lives under the pipeline's key prefix (so per
workspace scope), every key has a TTL, hash fields are the configured vendors' names only, and
the hourly counts are twelve 5-minute buckets that expire by themselves.

Recording never fails the caller: the pipeline's own work matters more than its figures, so a
Redis error here is logged at debug level and dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.alerts.queue import AlertKeys

log = logging.getLogger(__name__)

Source = Literal["webhook", "poll"]

BUCKET_SECONDS = 300
WINDOW_SECONDS = 3600
#: A bucket outlives the hour it counts in, then expires.
BUCKET_TTL_SECONDS = WINDOW_SECONDS + 2 * BUCKET_SECONDS
#: The per-vendor hashes (last event, last poll, webhook registration) are forgotten after a month unused.
HASH_TTL_SECONDS = 30 * 24 * 3600
#: A webhook registration summary kept (it is phonebot's own text, but adapters may list several URLs).
SUMMARY_CHARS = 200
#: Channels looked at for pacing (a SCAN of the pipeline's pace keys); more are counted, not listed.
CHANNELS_SCANNED = 200


@dataclass(frozen=True)
class VendorHealth:
    """What one vendor's side of the pipeline looks like."""

    vendor: str
    #: Unix time of the last event received from the vendor (``None``: none in the last month).
    last_event_at: float | None
    last_event_source: Source | None
    #: What the last webhook registration reported (``None``: never registered from here).
    webhooks: str | None
    webhooks_at: float | None
    #: Seconds since the last successful poll round (``None``: the vendor is not polled, or never was).
    poll_lag_seconds: float | None
    errors_last_hour: int
    rate_limit_pauses_last_hour: int


@dataclass(frozen=True)
class ChannelPace:
    """A channel whose next Slack write has to wait."""

    channel: str
    wait_seconds: float
    #: Slack answered 429: the wait is its ``Retry-After``, longer than ordinary pacing.
    rate_limited: bool


class HealthLog:
    """Records and reads a pipeline's health counters (``keys``: the pipeline's key prefix)."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys, *, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.keys = keys
        self.clock = clock
        self._prefix = f"{keys.prefix}:health"

    # -- recording ----------------------------------------------------------------------------
    async def event(self, vendor: str, source: Source) -> None:
        """An event from ``vendor`` arrived by ``source``."""
        value = json.dumps({"at": self.clock(), "source": source})
        await self._quietly(self._hset(f"{self._prefix}:last", vendor, value))

    async def polled(self, vendor: str) -> None:
        """A poll round of ``vendor`` succeeded."""
        await self._quietly(self._hset(f"{self._prefix}:polled", vendor, str(self.clock())))

    async def error(self, vendor: str) -> None:
        """A poll of ``vendor`` failed, or a webhook claiming to be from it was refused."""
        await self._quietly(self._count("errors", vendor))

    async def rate_limited(self, vendor: str) -> None:
        """``vendor`` answered 429 and phonebot paused for it."""
        await self._quietly(self._count("paused", vendor))

    async def webhooks(self, results: Mapping[str, str]) -> None:
        """What a webhook registration (sync) reported per vendor."""
        for vendor, summary in results.items():
            value = json.dumps({"at": self.clock(), "summary": summary[:SUMMARY_CHARS]})
            await self._quietly(self._hset(f"{self._prefix}:webhooks", vendor, value))

    # -- reading ------------------------------------------------------------------------------
    async def vendors(self, names: Sequence[str]) -> list[VendorHealth]:
        """The figures of each of ``names`` (the configured vendors), in that order."""
        if not names:
            return []
        now = self.clock()
        buckets = self._buckets(now)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(f"{self._prefix}:last", list(names))
            pipe.hmget(f"{self._prefix}:polled", list(names))
            pipe.hmget(f"{self._prefix}:webhooks", list(names))
            for name in names:
                pipe.mget([f"{self._prefix}:errors:{name}:{b}" for b in buckets])
                pipe.mget([f"{self._prefix}:paused:{name}:{b}" for b in buckets])
            last, polled, hooks, *counts = await pipe.execute()
        result = []
        for i, name in enumerate(names):
            event = _json(last[i])
            hook = _json(hooks[i])
            polled_at = _float(polled[i])
            source = event.get("source")
            result.append(
                VendorHealth(
                    vendor=name,
                    last_event_at=_float(event.get("at")),
                    last_event_source=source if source in ("webhook", "poll") else None,
                    webhooks=str(hook["summary"]) if hook.get("summary") is not None else None,
                    webhooks_at=_float(hook.get("at")),
                    poll_lag_seconds=max(0.0, now - polled_at) if polled_at is not None else None,
                    errors_last_hour=sum(int(n) for n in counts[2 * i] if n is not None),
                    rate_limit_pauses_last_hour=sum(int(n) for n in counts[2 * i + 1] if n is not None),
                )
            )
        return result

    async def paced_channels(self, *, pace_seconds: float) -> list[ChannelPace]:
        """Channels whose next write waits now, longest wait first (a wait beyond pacing is a 429 hold-off)."""
        pattern = self.keys.pace("*")
        names: list[str] = []
        async for key in self.redis.scan_iter(match=pattern, count=100):
            names.append(key.decode() if isinstance(key, bytes) else str(key))
            if len(names) >= CHANNELS_SCANNED:
                break
        if not names:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.mget(names)
            (seconds, micros), slots = await pipe.execute()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        head = len(self.keys.pace(""))
        paced = []
        for name, slot in zip(names, slots, strict=True):
            wait = (_float(slot) or 0.0) - now_ms
            if wait > 0:
                paced.append(ChannelPace(name[head:], wait / 1000, rate_limited=wait / 1000 > pace_seconds + 1))
        return sorted(paced, key=lambda pace: -pace.wait_seconds)

    # -- helpers ------------------------------------------------------------------------------
    def _buckets(self, now: float) -> list[int]:
        current = int(now // BUCKET_SECONDS)
        return [current - i for i in range(WINDOW_SECONDS // BUCKET_SECONDS)]

    async def _hset(self, key: str, field: str, value: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, field, value)
            pipe.expire(key, HASH_TTL_SECONDS)
            await pipe.execute()

    async def _count(self, what: str, vendor: str) -> None:
        key = f"{self._prefix}:{what}:{vendor}:{self._buckets(self.clock())[0]}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, BUCKET_TTL_SECONDS)
            await pipe.execute()

    @staticmethod
    async def _quietly(write: Any) -> None:
        try:
            await write
        except (RedisError, OSError) as exc:
            log.debug("health figure not recorded: %s", type(exc).__name__)


def _json(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    with contextlib.suppress(ValueError, TypeError):
        value = json.loads(raw if isinstance(raw, str | bytes) else str(raw))
        if isinstance(value, dict):
            return value
    return {}


def _float(raw: object) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw if isinstance(raw, str | bytes | int | float) else str(raw))
    except (TypeError, ValueError):
        return None
