"""The Redis store (``redis.asyncio``)."""

from __future__ import annotations

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


class RedisStore(Store):
    """Store backed by a Redis server."""

    durable = True

    def __init__(self, url: str, *, client: aioredis.Redis | None = None) -> None:
        self.url = url
        self.description = f"Redis at {redact_url(url)}"
        self.client: aioredis.Redis = client or aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=3, socket_timeout=5, health_check_interval=30
        )

    async def get(self, key: str) -> str | None:
        value = await self.client.get(key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        await self.client.set(key, value, px=_ms(ttl))

    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        return bool(await self.client.set(key, value, px=_ms(ttl), nx=True))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self.client.delete(*keys))

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
        await self.client.aclose()


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))
