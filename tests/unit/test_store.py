"""One store test suite, run against the embedded store and a real spawned redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.store import MemoryStore, RedisStore, ScopedStore, Store, open_store
from bot.store.redis import redact_url


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        backend: Store = MemoryStore()
    else:
        backend = RedisStore(request.getfixturevalue("redis_url"))
    yield backend
    await backend.close()


async def test_get_set_delete(store: Store) -> None:
    assert await store.get("k") is None
    await store.set("k", "v")
    assert await store.get("k") == "v"
    assert await store.delete("k", "missing") == 1
    assert await store.get("k") is None


async def test_expiry(store: Store) -> None:
    await store.set("short", "v", ttl=0.05)
    ttl = await store.ttl("short")
    assert ttl is not None and 0 < ttl <= 0.05
    await asyncio.sleep(0.1)
    assert await store.get("short") is None
    assert await store.ttl("short") is None


async def test_set_if_absent_is_atomic(store: Store) -> None:
    results = await asyncio.gather(*(store.set_if_absent("once", str(i), ttl=5) for i in range(20)))
    assert results.count(True) == 1
    assert await store.get("once") == str(results.index(True))


async def test_incr_counts_and_keeps_first_ttl(store: Store) -> None:
    assert await store.incr("n", ttl=5) == 1
    assert await store.incr("n", amount=2, ttl=100) == 3
    ttl = await store.ttl("n")
    assert ttl is not None and ttl <= 5


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


def test_factory_picks_backend() -> None:
    assert isinstance(open_store(None), MemoryStore)
    assert not open_store(None).durable
    assert isinstance(open_store("redis://127.0.0.1:1/0"), RedisStore)


def test_redis_url_password_is_redacted() -> None:
    assert redact_url("redis://:hunter2@cache:6379/0") == "redis://***@cache:6379/0"
    assert "hunter2" not in RedisStore("redis://:hunter2@cache:6379/0").description


async def test_unreachable_redis_pings_false() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")
    assert await store.ping() is False
    await store.close()


async def test_take_reads_and_removes_once(store: Store) -> None:
    """Issue 11 point 1: an OAuth state is taken by one redirect only."""
    await store.set("once", "v", ttl=60)
    taken = await asyncio.gather(*(store.take("once") for _ in range(5)))
    assert taken.count("v") == 1 and taken.count(None) == 4
    assert await store.get("once") is None


async def test_keys_with_prefix_lists_exactly_that_prefix_up_to_a_limit(store: Store) -> None:
    """Issue 11: the installations are listed by their key prefix (glob characters are literal)."""
    for team in ("T1", "T2", "T3"):
        await store.set(f"slack:install:-:{team}", "record")
    await store.set("slack:installs-elsewhere", "x")
    await store.set("slack:install*:-:T9", "a literal star")
    assert sorted(await store.keys_with_prefix("slack:install:")) == [f"slack:install:-:T{n}" for n in (1, 2, 3)]
    assert len(await store.keys_with_prefix("slack:install:", limit=2)) == 2
    assert await store.keys_with_prefix("slack:install*:") == ["slack:install*:-:T9"]
    with pytest.raises(ValueError):
        await store.keys_with_prefix("")


async def test_delete_prefix_removes_exactly_that_prefix(store: Store) -> None:
    """Issue 11 point 2: forgetting a workspace deletes its keys and nobody else's (glob characters are literal)."""
    keys = [f"ws:-:T1:slack:user:U{i}" for i in range(1200)]
    for key in keys:
        await store.set(key, "profile")
    await store.set("ws:-:T10:slack:user:U1", "another workspace")
    await store.set("ws:-:T*:x", "a literal star")
    await store.set("slack:install:-:T1", "not under the prefix")
    assert await store.delete_prefix("ws:-:T1:") == 1200
    assert await store.get(keys[0]) is None and await store.get(keys[-1]) is None
    assert await store.get("ws:-:T10:slack:user:U1") == "another workspace"
    assert await store.delete_prefix("ws:-:T*:") == 1
    assert await store.get("slack:install:-:T1") == "not under the prefix"


async def test_a_scoped_store_keeps_its_keys_under_its_prefix_and_lists_them_without_it(store: Store) -> None:
    team_a, team_b = ScopedStore.of(store, "ws:-:TA:"), ScopedStore.of(store, "ws:-:TB:")
    await team_a.set("poll:cursor:relatel", "a")
    await team_b.set("poll:cursor:relatel", "b")
    assert await store.get("ws:-:TA:poll:cursor:relatel") == "a"
    assert (await team_a.get("poll:cursor:relatel"), await team_b.get("poll:cursor:relatel")) == ("a", "b")
    assert await team_a.set_if_absent("lock", "1") and await team_b.set_if_absent("lock", "1")
    assert await team_a.incr("n") == 1 and await team_b.incr("n", amount=5) == 5
    assert sorted(await team_a.keys_with_prefix("poll:")) == ["poll:cursor:relatel"]
    assert await team_a.take("poll:cursor:relatel") == "a" and await team_b.get("poll:cursor:relatel") == "b"
    assert await team_a.delete_prefix("") >= 2  # the whole scope, and nothing of the other
    assert await team_b.get("lock") == "1" and await team_a.get("lock") is None
    await team_a.close()  # a view: the shared store stays open
    assert await store.ping()


def test_an_empty_prefix_is_the_store_itself_and_scopes_do_not_nest_views() -> None:
    store = MemoryStore()
    assert ScopedStore.of(store, "") is store
    nested = ScopedStore.of(ScopedStore.of(store, "a:"), "b:")
    assert isinstance(nested, ScopedStore) and nested.inner is store and nested.prefix == "a:b:"
