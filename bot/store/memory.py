"""The embedded store: a dict with expiry, for trying phonebot out. Not durable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.store.base import Store


class MemoryStore(Store):
    """In-process store; state vanishes when the process ends."""

    durable = False
    description = "embedded in-process store (not durable: state is lost on restart)"

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._clock = clock
        self._lock = asyncio.Lock()

    def _live(self, key: str) -> tuple[str, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= self._clock():
            del self._data[key]
            return None
        return entry

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    async def get(self, key: str) -> str | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        self._data[key] = (value, self._expiry(ttl))

    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        async with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, self._expiry(ttl))
            return True

    async def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            if self._live(key) is not None:
                del self._data[key]
                removed += 1
        return removed

    async def incr(self, key: str, *, amount: int = 1, ttl: float | None = None) -> int:
        async with self._lock:
            entry = self._live(key)
            if entry is None:
                value, expiry = amount, self._expiry(ttl)
            else:
                value, expiry = int(entry[0]) + amount, entry[1]
            self._data[key] = (str(value), expiry)
            return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - self._clock())

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()
