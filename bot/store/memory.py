"""The embedded store: an in-process Redis (fakeredis), for trying phonebot out. Not durable.

Using an in-process Redis rather than a hand-written dict means the alert queue, dedupe and
pacing run the exact same Redis commands and Lua scripts with or without ``REDIS_URL``.
"""

from __future__ import annotations

from fakeredis import FakeAsyncRedis, FakeServer

from bot.store.redis import RedisStore


class MemoryStore(RedisStore):
    """In-process Redis; state vanishes when the process ends."""

    durable = False

    def __init__(self) -> None:
        super().__init__("embedded://", client=FakeAsyncRedis(server=FakeServer(), decode_responses=True))
        self.description = "embedded in-process store (not durable: state is lost on restart)"

    def pipeline(self) -> RedisStore:
        """In-process there is no pool to share out: the pipeline uses this same store."""
        return self
