"""A vendor adapter's slice of the store (:class:`adapters.base.AdapterState`).

Keys are ``phonebot:vendor:<vendor>:<the adapter's key>``: the ``phonebot:`` namespace every
phonebot key lives under, then the vendor, so no adapter can read or overwrite another's state or
phonebot's own. Adapters scope their keys further to their account (Tele2: a digest of the API host
and key), so two deployments sharing one Redis keep apart.
"""

from __future__ import annotations

from bot.store.base import Store


class VendorState:
    """The store, as one vendor's adapter sees it."""

    def __init__(self, store: Store, vendor: str) -> None:
        self.store = store
        self.vendor = vendor
        self.durable = store.durable

    def key(self, key: str) -> str:
        """The store key of the adapter's ``key``."""
        return f"phonebot:vendor:{self.vendor}:{key}"

    async def get(self, key: str) -> str | None:
        return await self.store.get(self.key(key))

    async def set(self, key: str, value: str) -> None:
        await self.store.set(self.key(key), value)
