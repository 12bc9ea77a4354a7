"""Choose the store from ``REDIS_URL``."""

from __future__ import annotations

from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore


def open_store(redis_url: str | None) -> RedisStore:
    """Redis when ``redis_url`` is set, otherwise the embedded (non-durable) store."""
    if redis_url:
        return RedisStore(redis_url)
    return MemoryStore()
