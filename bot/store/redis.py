"""The Redis store (``redis.asyncio``).

Connections come from sized pools that *wait* for a free connection (up to a timeout)
instead of failing at once with "Too many connections" (redis-py's ``BlockingConnectionPool``).
The alert pipeline — webhook intake, worker, poller — has a pool of its own
(:meth:`RedisStore.pipeline`), so a burst of slash commands can never starve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.store.base import Store


def redact_url(url: str) -> str:
    """``redis://:secret@host:6379/0`` -> ``redis://***@host:6379/0``."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class RedisPools:
    """Sizes of the two connection pools and how long a caller waits for a free connection."""

    #: Commands, buttons, identity lookups (``REDIS_MAX_CONNECTIONS``).
    max_connections: int = 50
    #: Webhook intake, alert worker and poller (``REDIS_ALERTS_MAX_CONNECTIONS``).
    alerts_max_connections: int = 50
    #: Seconds to wait for a free connection before failing (``REDIS_POOL_TIMEOUT_SECONDS``).
    timeout: float = 5.0


def _pooled_client(url: str, *, max_connections: int, timeout: float) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        decode_responses=True,
        socket_connect_timeout=3,
        socket_timeout=5,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


class RedisStore(Store):
    """Store backed by a Redis server, from a sized pool that blocks (bounded) when it is busy."""

    durable = True

    def __init__(self, url: str, *, client: aioredis.Redis | None = None, pools: RedisPools | None = None) -> None:
        self.url = url
        self.description = f"Redis at {redact_url(url)}"
        self.pools = pools or RedisPools()
        self.client: aioredis.Redis = client or _pooled_client(
            url, max_connections=self.pools.max_connections, timeout=self.pools.timeout
        )
        self._pipeline: RedisStore | None = None

    def pipeline(self) -> RedisStore:
        """The same Redis through the alert pipeline's own pool (opened on first use)."""
        if self._pipeline is None:
            client = _pooled_client(
                self.url, max_connections=self.pools.alerts_max_connections, timeout=self.pools.timeout
            )
            self._pipeline = RedisStore(self.url, client=client, pools=self.pools)
        return self._pipeline

    async def get(self, key: str) -> str | None:
        value = await self.client.get(key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        await self.client.set(key, value, px=_ms(ttl))

    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        return bool(await self.client.set(key, value, px=_ms(ttl), nx=True))

    async def take(self, key: str) -> str | None:
        value = await self.client.getdel(key)
        return None if value is None else str(value)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self.client.delete(*keys))

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("delete_prefix needs a non-empty prefix")
        removed = 0
        batch: list[str] = []
        async for key in self.client.scan_iter(match=glob_escape(prefix) + "*", count=500):
            batch.append(str(key))
            if len(batch) >= 500:
                removed += int(await self.client.delete(*batch))
                batch.clear()
        if batch:
            removed += int(await self.client.delete(*batch))
        return removed

    async def keys_with_prefix(self, prefix: str, *, limit: int = 1000) -> list[str]:
        if not prefix:
            raise ValueError("keys_with_prefix needs a non-empty prefix")
        found: list[str] = []
        async for key in self.client.scan_iter(match=glob_escape(prefix) + "*", count=500):
            found.append(str(key))
            if len(found) >= limit:
                break
        return found

    async def incr(self, key: str, *, amount: int = 1, ttl: float | None = None) -> int:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            if ttl is not None:
                pipe.pexpire(key, _ms(ttl) or 1, nx=True)
            results = await pipe.execute()
        return int(results[0])

    async def ttl(self, key: str) -> float | None:
        remaining = int(await self.client.pttl(key))
        return None if remaining < 0 else remaining / 1000

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        if self._pipeline is not None:
            await self._pipeline.close()
        # A client made over a pool does not own it: close the pool's connections too.
        await self.client.aclose(close_connection_pool=True)


def glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern."""
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))
