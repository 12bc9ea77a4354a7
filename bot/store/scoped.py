"""One workspace's view of the store: every key it reads or writes starts with the workspace's prefix.

Components written for one workspace (dedupe, pacing, poll cursors, vendor state, listen links) take a
:class:`ScopedStore` and keep their own key names; two workspaces can then never meet in one key, and
an uninstall deletes the whole prefix (:mod:`bot.installs.forget`). An empty prefix is the store
itself: the single-workspace deployment keeps the keys it always had.
"""

from __future__ import annotations

from bot.store.base import Store


class ScopedStore(Store):
    """``store`` with ``prefix`` put in front of every key (and taken off the keys it lists)."""

    def __init__(self, store: Store, prefix: str) -> None:
        self.inner = store
        self.prefix = prefix
        self.durable = store.durable
        self.description = store.description

    @classmethod
    def of(cls, store: Store, prefix: str) -> Store:
        """``store`` itself for an empty prefix, else a scoped view (never a view of a view of the same)."""
        if not prefix:
            return store
        if isinstance(store, ScopedStore):
            return cls(store.inner, store.prefix + prefix)
        return cls(store, prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> str | None:
        return await self.inner.get(self._k(key))

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        await self.inner.set(self._k(key), value, ttl=ttl)

    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        return await self.inner.set_if_absent(self._k(key), value, ttl=ttl)

    async def take(self, key: str) -> str | None:
        return await self.inner.take(self._k(key))

    async def delete(self, *keys: str) -> int:
        return await self.inner.delete(*(self._k(key) for key in keys))

    async def delete_prefix(self, prefix: str) -> int:
        return await self.inner.delete_prefix(self._k(prefix))

    async def keys_with_prefix(self, prefix: str, *, limit: int = 1000) -> list[str]:
        keys = await self.inner.keys_with_prefix(self._k(prefix), limit=limit)
        return [key.removeprefix(self.prefix) for key in keys]

    async def incr(self, key: str, *, amount: int = 1, ttl: float | None = None) -> int:
        return await self.inner.incr(self._k(key), amount=amount, ttl=ttl)

    async def ttl(self, key: str) -> float | None:
        return await self.inner.ttl(self._k(key))

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def close(self) -> None:
        """The scope owns no connection: closing it leaves the shared store open."""
