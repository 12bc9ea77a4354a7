"""Exact per-state totals for alerts that list many entries (a campaign's receivers), kept outside the record.

A subject record keeps only its most recent entry lines (``bot.alerts.state.ENTRY_LINES``),
so it stays small however many receivers a campaign has. The totals per state ("3,000
accepted · 1,500 declined") must still count every receiver exactly once, even when a
receiver's newer reply replaces one whose line is long gone: each entry's current state lives
in a Redis hash beside the record, changed in one script per event (O(1), never read whole),
and the totals in a second, small hash the script returns.

Applying the same (entry, state) twice changes nothing, so a retried batch counts nothing twice.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.alerts.queue import AlertKeys

TALLY_TTL_SECONDS = 30 * 24 * 3600  # as long as the subject record it belongs to

# KEYS: entry → state hash, state → total hash; ARGV: entry, state, ttl. Returns the totals (HGETALL).
_TALLY = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old ~= ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if old then
    if redis.call('HINCRBY', KEYS[2], old, -1) <= 0 then redis.call('HDEL', KEYS[2], old) end
  end
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return redis.call('HGETALL', KEYS[2])
"""


class EntryTally:
    """Counts a subject's entries per state, each entry once in its latest state."""

    def __init__(self, redis: aioredis.Redis, keys: AlertKeys) -> None:
        self.keys = keys
        self._tally = redis.register_script(_TALLY)

    async def count(self, subject_key: str, entry: str, state: str) -> dict[str, int]:
        """Record ``entry`` as being in ``state``; returns the subject's totals per state."""
        base = self.keys.record(subject_key)
        flat = await self._tally(keys=[f"{base}:entries", f"{base}:totals"], args=[entry, state, TALLY_TTL_SECONDS])
        pairs = [str(item) if not isinstance(item, bytes) else item.decode() for item in flat]
        return {pairs[i]: int(pairs[i + 1]) for i in range(0, len(pairs), 2)}
