"""``/phonebot dead`` and ``/phonebot replay`` on the embedded Redis: what an admin sees, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.events import AlertEvent, AlertKind
from bot.alerts.queue import AlertQueue, QueueEntry
from bot.config import parse_config
from bot.runtime import build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.context import Services
from handlers.dead_letters import NOT_HERE, SHOWN
from handlers.phonebot import phonebot_command

HOSTILE = "<!channel> <https://evil.example|click>"


@pytest.fixture
def services() -> Services:
    config = parse_config({"admins": ["U0ADMIN"]}, source="test", env={})
    users = StaticUserDirectory([SlackUser(id="U0ADMIN", name="Ada", email=None, tz="Europe/Vilnius")])
    built = build_services(config, store=MemoryStore(), adapters={}, users=users)
    built.alert_queue = AlertQueue(built.store.client)  # type: ignore[attr-defined]
    return built


async def park(services: Services, n: int, *, reason: str = "Slack refused: channel_not_found") -> str:
    queue = services.alert_queue
    assert queue is not None
    event = AlertEvent(
        kind=AlertKind.LOST_CALL_OPENED,
        vendor="tele2",
        subject=f"lost:{HOSTILE}:{n}",
        idempotency_key=f"k{n}",
        occurred_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    entry_id = f"{1733043600000 + n}-0"
    await queue.dead_letter(QueueEntry(entry_id, f"tele2|lost:{HOSTILE}:{n}", event), reason)
    return entry_id


async def test_an_admin_sees_each_dead_letter_with_outside_text_escaped(services: Services) -> None:
    entry_id = await park(services, 1, reason=f"could not be handled: {HOSTILE}")
    reply = await phonebot_command(services, user_id="U0ADMIN", text="dead")
    assert f"`{entry_id}`" in reply.text and "lost call opened" in reply.text
    assert "<!channel>" not in reply.text and "<https://" not in reply.text and "&lt;!channel&gt;" in reply.text
    assert reply.context is not None and "/phonebot replay all" in reply.context


async def test_a_long_list_is_cut_and_counted(services: Services) -> None:
    for n in range(SHOWN + 3):
        await park(services, n)
    reply = await phonebot_command(services, user_id="U0ADMIN", text="dead")
    assert reply.text.startswith(f"*{SHOWN + 3} alerts Slack never accepted*") and "…and 3 more" in reply.text
    assert len(reply.text) < 3000


async def test_replay_sends_named_letters_again_and_says_which_were_not_there(services: Services) -> None:
    first, second = await park(services, 1), await park(services, 2)
    reply = await phonebot_command(services, user_id="U0ADMIN", text=f"replay {first} 1-0")
    assert f"Replaying 1 alert (`{first}`)" in reply.text and "No dead letter `1-0`" in reply.text
    queue = services.alert_queue
    assert queue is not None
    assert [letter.id for letter in await queue.dead_letters()] == [second]
    assert await queue.backlog() == 1  # back in the stream for the worker


async def test_non_admins_are_refused_and_nothing_is_replayed(services: Services) -> None:
    await park(services, 1)
    for text in ("dead", "replay all"):
        reply = await phonebot_command(services, user_id="U0BOB", text=text)
        assert "Only phonebot admins" in reply.text and "<@U0ADMIN>" in reply.text
    queue = services.alert_queue
    assert queue is not None
    assert len(await queue.dead_letters()) == 1 and await queue.backlog() == 0


async def test_where_no_pipeline_runs_the_admin_is_pointed_to_the_cli(services: Services) -> None:
    services.alert_queue = None  # phonebot console
    assert (await phonebot_command(services, user_id="U0ADMIN", text="dead")).text == NOT_HERE
    empty = build_services(
        parse_config({"admins": ["U0ADMIN"]}, source="t", env={}),
        store=MemoryStore(),
        adapters={},
        users=StaticUserDirectory([]),
    )
    empty.alert_queue = AlertQueue(empty.store.client)  # type: ignore[attr-defined]
    assert "No dead letters" in (await phonebot_command(empty, user_id="U0ADMIN", text="replay all")).text
