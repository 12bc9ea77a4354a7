"""Digest messages: one Slack message standing for many alerts.

Two kinds share one mechanism:

* **burst** — a channel got more new alerts in a minute than its route allows; the rest
  join one message that is updated in place ("+37 more lost calls", with a list).
* **quiet** — the route is in quiet hours (or snoozed); alerts join a digest that is held
  back (``not_before``) and posted once when the quiet time ends.

Either way a digest is written at most once per ``delivery.digest_refresh_seconds``: after a
write ``not_before`` moves that far ahead, and changes arriving meanwhile schedule one
coalesced edit for then (the ``releases`` sorted set), so 180 folded alerts cost a handful of
edits rather than 180.

A digest lives in Redis: a hash (channel, kind, title, not_before, ts, version, synced)
and a sorted set of member subject keys in arrival order. Adding a member is idempotent.

Lifetime: the hash and its members expire :data:`DIGEST_TTL_SECONDS` after the digest last
changed, and every change refreshes both, so they live at least as long as the subject records
that point at them stay active. A digest that did expire is never brought back half-made:
``add``, ``changed`` and ``mark_synced`` touch only a digest that still exists, and say so;
the worker then gives the subject a message of its own again.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.alerts.queue import AlertKeys

OPEN_BURST_SECONDS = 120  # a burst digest keeps collecting until this long after its last member
#: How long a digest outlives its last change (the same as a subject record outlives its own).
DIGEST_TTL_SECONDS = 30 * 24 * 3600

# KEYS: digest hash, members; ARGV: ttl, [member, score]. Bumps the version only if the digest exists.
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'channel') == 0 then
  return 0
end
if ARGV[2] then redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2]) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
"""

# KEYS: digest hash, releases; ARGV: id, ts, version, not_before. Records a write only on a digest that exists.
_MARK_SYNCED = """
if redis.call('HEXISTS', KEYS[1], 'channel') == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], 'ts', ARGV[2], 'synced', ARGV[3], 'not_before', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


@dataclass(frozen=True)
class Digest:
    """A digest's bookkeeping (members are read separately)."""

    id: str
    channel: str
    kind: str
    title: str
    not_before: float
    ts: str | None
    version: int
    synced: int


class Digests:
    """Create digests, add members, and read them for rendering."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._touch = redis.register_script(_TOUCH)
        self._mark_synced = redis.register_script(_MARK_SYNCED)

    async def burst(self, channel: str) -> str:
        """The channel's open burst digest, started if there is none."""
        key = self.keys.open_digest(channel)
        candidate = f"burst:{channel}:{uuid.uuid4().hex[:12]}"
        if await self.redis.set(key, candidate, nx=True, ex=OPEN_BURST_SECONDS):
            await self._create(candidate, channel, kind="burst", title="", not_before=0)
            return candidate
        await self.redis.expire(key, OPEN_BURST_SECONDS)
        existing = await self.redis.get(key)
        return str(existing) if existing else await self.burst(channel)

    async def quiet(self, channel: str, release_at: float, title: str) -> str:
        """The digest holding ``channel``'s alerts until ``release_at`` (unix time)."""
        digest_id = f"quiet:{channel}:{int(release_at)}"
        await self._create(digest_id, channel, kind="quiet", title=title, not_before=release_at)
        await self.redis.zadd(self.keys.releases, {digest_id: release_at})
        return digest_id

    async def add(self, digest_id: str, subject_key: str) -> bool:
        """Make a subject a member (no-op if it already is) and mark the digest for re-render.

        ``False`` when the digest no longer exists (it expired): nothing was written.
        """
        keys = [self.keys.digest(digest_id), self._members(digest_id)]
        return bool(await self._touch(keys=keys, args=[DIGEST_TTL_SECONDS, subject_key, time.time()]))

    async def changed(self, digest_id: str) -> bool:
        """A member's state changed: the digest must be re-rendered; ``False`` when it no longer exists."""
        keys = [self.keys.digest(digest_id), self._members(digest_id)]
        return bool(await self._touch(keys=keys, args=[DIGEST_TTL_SECONDS]))

    async def get(self, digest_id: str) -> Digest | None:
        """The digest, or ``None`` when it is gone (or only a fragment of it is left)."""
        raw: dict[str, str] = dict(await self.redis.hgetall(self.keys.digest(digest_id)))  # type: ignore[arg-type]
        if "channel" not in raw or "kind" not in raw:
            return None
        return Digest(
            id=digest_id,
            channel=raw["channel"],
            kind=raw["kind"],
            title=raw.get("title", ""),
            not_before=float(raw.get("not_before", 0)),
            ts=raw.get("ts") or None,
            version=int(raw.get("version", 0)),
            synced=int(raw.get("synced", 0)),
        )

    async def members(self, digest_id: str) -> list[str]:
        return [str(member) for member in await self.redis.zrange(self._members(digest_id), 0, -1)]

    async def mark_synced(self, digest_id: str, *, ts: str, version: int, next_edit_at: float) -> None:
        """Record the write of ``version``; the next edit waits until ``next_edit_at`` (unix time)."""
        await self._mark_synced(
            keys=[self.keys.digest(digest_id), self.keys.releases], args=[digest_id, ts, version, next_edit_at]
        )

    async def schedule(self, digest_id: str, at: float) -> None:
        """Have the worker sync the digest at ``at`` (unix time), when it may be written again."""
        await self.redis.zadd(self.keys.releases, {digest_id: at})

    async def due(self, now: float) -> list[str]:
        """Digests waiting for a time that has come (quiet hours over, or an edit held back)."""
        return [str(item) for item in await self.redis.zrangebyscore(self.keys.releases, "-inf", now)]

    async def released(self, digest_id: str) -> None:
        await self.redis.zrem(self.keys.releases, digest_id)

    async def _create(self, digest_id: str, channel: str, *, kind: str, title: str, not_before: float) -> None:
        key = self.keys.digest(digest_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            for field, value in (("channel", channel), ("kind", kind), ("title", title), ("not_before", not_before)):
                pipe.hsetnx(key, field, value)
            pipe.hsetnx(key, "version", 0)
            pipe.hsetnx(key, "synced", 0)
            pipe.expire(key, DIGEST_TTL_SECONDS)
            pipe.expire(self._members(digest_id), DIGEST_TTL_SECONDS)
            await pipe.execute()

    def _members(self, digest_id: str) -> str:
        return f"{self.keys.digest(digest_id)}:members"
