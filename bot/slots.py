"""Evenly spaced write slots kept in Redis, shared by every process: one key per paced thing (a Slack channel for
alerts, a workspace for Slack status writes). The key holds the next free slot (ms, Redis's own clock).

:data:`RESERVE` takes the next slot (``ARGV[1]`` = interval ms) and returns how long to wait for it; with
``ARGV[2]`` (ms) it takes the slot only if it is at most that far away and returns ``-1`` otherwise.
:data:`HOLD_OFF` pushes the next slot to at least ``ARGV[1]`` ms from now (after a 429's ``Retry-After``).
"""

RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
if ARGV[2] and slot - now > tonumber(ARGV[2]) then return -1 end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', interval + 120000)
return slot - now
"""

HOLD_OFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_ms = now + tonumber(ARGV[1])
if until_ms > slot then redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 120000) end
return 0
"""
