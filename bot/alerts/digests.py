"""Digest messages: one Slack message standing for many alerts.

Two kinds share one mechanism:

* **burst** — a channel got more new alerts in a minute than its route allows; the rest
  join one message that is updated in place ("+37 more lost calls", with a list).
* **quiet** — the route is in quiet hours (or snoozed); alerts join a digest that is held
  back (``not_before``) and posted once when the quiet time ends.

Subjects never write a digest themselves: joining one (:meth:`Digests.add`) or changing inside
one (:meth:`Digests.changed`) only bumps its version and puts it on the ``releases`` schedule
(the sorted set of digests due for a write). One writer per digest — whoever holds its lock
when it is due — renders and writes it; everyone else moves on without waiting, so subjects
joining a digest never queue behind each other. A digest is written at most once per
``delivery.digest_refresh_seconds``: after a write ``not_before`` moves that far ahead and, if
members changed meanwhile, the digest stays scheduled for then, so 180 folded alerts cost a
handful of edits rather than 180. Taking a digest off the schedule is conditional on it being
current, in one script, so a change racing a write is never dropped.

A digest lives in Redis: a hash (channel, kind, title, not_before, ts, version, synced, and
while its message's first post has no known outcome the intent ``posting``/``posting_since``,
see :mod:`bot.alerts.recovery`) and a sorted set of member subject keys ranked by arrival in
the queue (read newest first). Adding a member is idempotent.

Lifetime: the hash and its members expire :data:`DIGEST_TTL_SECONDS` after the digest last
changed, and every change refreshes both, so they live at least as long as the subject records
that point at them stay active. A digest that did expire is never brought back half-made:
``add``, ``changed`` and ``mark_synced`` touch only a digest that still exists, and say so;
the worker then gives the subject a message of its own again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.alerts.ledger import PostIntent
from bot.alerts.queue import AlertKeys

OPEN_BURST_SECONDS = 120  # a burst digest keeps collecting until this long after its last member
#: How long a digest outlives its last change (the same as a subject record outlives its own).
DIGEST_TTL_SECONDS = 30 * 24 * 3600

# KEYS: digest hash, members, releases; ARGV: ttl, digest id, due at, [member, arrival score].
# Only a digest that still exists is touched: version bumped, TTLs refreshed, scheduled (NX) for a write.
_TOUCH = """
if redis.call('HEXISTS', KEYS[1], 'channel') == 0 then
  return 0
end
if ARGV[4] then redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[4]) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[2])
return 1
"""

# KEYS: digest hash, releases; ARGV: digest id, ts, version written, next edit at.
# Never recreates an expired digest. Still behind (a member changed during the write) → stays
# scheduled for the next edit; else off the schedule.
_MARK_SYNCED = """
if redis.call('HEXISTS', KEYS[1], 'channel') == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], 'ts', ARGV[2], 'synced', ARGV[3], 'not_before', ARGV[4])
redis.call('HDEL', KEYS[1], 'posting', 'posting_since')
if tonumber(redis.call('HGET', KEYS[1], 'version') or '0') > tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""
# KEYS: digest hash; ARGV: intent nonce and time ('' clears the intent), ts found ('' for none).
# Never recreates an expired digest.
_POSTING = """
if redis.call('HEXISTS', KEYS[1], 'channel') == 0 then
  return 0
end
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'posting', ARGV[1], 'posting_since', ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'posting', 'posting_since')
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'ts', ARGV[3]) end
return 1
"""
# KEYS: digest hash, releases; ARGV: digest id. Off the schedule only if nothing is left to write.
_RELEASE_IF_CURRENT = """
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if tonumber(redis.call('HGET', KEYS[1], 'synced') or '0') >= version then
  return redis.call('ZREM', KEYS[2], ARGV[1])
end
return 0
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
    posting: PostIntent | None = None  # a post of its message with no known outcome yet


def arrival_rank(entry_id: str) -> float:
    """A queue entry's place in arrival order (its stream id ``ms-seq``), as an exact sorted-set score."""
    millis, _, seq = entry_id.partition("-")
    return int(millis) * 1000 + min(int(seq or 0), 999)


class Digests:
    """Create digests, add members, and read them for rendering."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._touch = redis.register_script(_TOUCH)
        self._mark_synced = redis.register_script(_MARK_SYNCED)
        self._release_if_current = redis.register_script(_RELEASE_IF_CURRENT)
        self._posting = redis.register_script(_POSTING)

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

    async def add(self, digest_id: str, subject_key: str, *, now: float, arrived: float) -> bool:
        """Make a subject a member (no-op if it already is) and schedule a re-render at ``now`` (unix time).

        ``arrived`` orders the members (see :func:`arrival_rank`); a member keeps its first rank.
        Never writes Slack: the digest's one writer does (see the module docstring). ``False`` when
        the digest no longer exists (it expired): nothing was written.
        """
        return await self._touched(digest_id, now, subject_key, arrived)

    async def changed(self, digest_id: str, *, now: float) -> bool:
        """A member's state changed: schedule a re-render at ``now`` (unix time); never writes Slack.

        An existing schedule is kept (``NX``): a held-back digest stays held until its ``not_before``.
        ``False`` when the digest no longer exists.
        """
        return await self._touched(digest_id, now)

    async def _touched(self, digest_id: str, now: float, *member: str | float) -> bool:
        keys = [self.keys.digest(digest_id), self._members(digest_id), self.keys.releases]
        return bool(await self._touch(keys=keys, args=[DIGEST_TTL_SECONDS, digest_id, now, *member]))

    async def get(self, digest_id: str) -> Digest | None:
        """The digest, or ``None`` when it is gone (or only a fragment of it is left)."""
        raw: dict[str, str] = dict(await self.redis.hgetall(self.keys.digest(digest_id)))  # type: ignore[arg-type]
        if "channel" not in raw or "kind" not in raw:
            return None
        posting = None
        if raw.get("posting"):
            posting = PostIntent(nonce=raw["posting"], since=float(raw.get("posting_since") or 0))
        return Digest(
            id=digest_id,
            channel=raw["channel"],
            kind=raw["kind"],
            title=raw.get("title", ""),
            not_before=float(raw.get("not_before", 0)),
            ts=raw.get("ts") or None,
            version=int(raw.get("version", 0)),
            synced=int(raw.get("synced", 0)),
            posting=posting,
        )

    async def members(self, digest_id: str) -> list[str]:
        """Member subject keys, newest first."""
        return [str(member) for member in await self.redis.zrevrange(self._members(digest_id), 0, -1)]

    async def mark_synced(self, digest_id: str, *, ts: str, version: int, next_edit_at: float) -> None:
        """Record the write of ``version``; the next edit waits until ``next_edit_at`` (unix time).

        If members changed while ``version`` was being written, the digest stays scheduled for that
        next edit. Any post intent is cleared (the message is known). A digest that expired
        meanwhile is not recreated.
        """
        await self._mark_synced(
            keys=[self.keys.digest(digest_id), self.keys.releases], args=[digest_id, ts, version, next_edit_at]
        )

    async def intend(self, digest_id: str, intent: PostIntent | None) -> None:
        """Save the intent of posting the digest's message before the post (``None`` clears it)."""
        args = [intent.nonce, repr(intent.since)] if intent is not None else ["", ""]
        await self._posting(keys=[self.keys.digest(digest_id)], args=[*args, ""])

    async def adopted(self, digest_id: str, ts: str) -> None:
        """An earlier post of the digest's message was found: it is the digest's message now."""
        await self._posting(keys=[self.keys.digest(digest_id)], args=["", "", ts])

    async def schedule(self, digest_id: str, at: float) -> None:
        """Have the worker sync the digest at ``at`` (unix time), when it may be written again."""
        await self.redis.zadd(self.keys.releases, {digest_id: at})

    async def due(self, now: float) -> list[str]:
        """Digests waiting for a time that has come (quiet hours over, or an edit held back)."""
        return [str(item) for item in await self.redis.zrangebyscore(self.keys.releases, "-inf", now)]

    async def released(self, digest_id: str) -> None:
        """Take a digest off the schedule, unless a member changed since it was found current."""
        await self._release_if_current(keys=[self.keys.digest(digest_id), self.keys.releases], args=[digest_id])

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

    async def has_member(self, digest_id: str, subject_key: str) -> bool:
        """Whether ``subject_key`` is one of the alerts the digest counts."""
        return await self.redis.zscore(self._members(digest_id), subject_key) is not None

    def _members(self, digest_id: str) -> str:
        return f"{self.keys.digest(digest_id)}:members"
