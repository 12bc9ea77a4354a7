"""Choose the store from ``REDIS_URL``."""

from __future__ import annotations

from bot.store.memory import MemoryStore
from bot.store.redis import RedisPools, RedisStore


def open_store(redis_url: str | None, *, pools: RedisPools | None = None) -> RedisStore:
    """Redis when ``redis_url`` is set (pools sized by ``pools``), otherwise the embedded (non-durable) store."""
    if redis_url:
        return RedisStore(redis_url, pools=pools)
    return MemoryStore()
