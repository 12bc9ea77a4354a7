"""Key-value state behind one small interface: Redis in production, in-process otherwise.

``open_store(None)`` gives the embedded store, which keeps nothing across restarts and is
announced as such at startup; ``open_store("redis://...")`` gives the Redis store.
"""

from bot.store.base import Store
from bot.store.factory import open_store
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.store.scoped import ScopedStore
from bot.store.vendor import VendorState

__all__ = ["MemoryStore", "RedisStore", "ScopedStore", "Store", "VendorState", "open_store"]
