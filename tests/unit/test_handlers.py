"""Handlers against a minimal in-test adapter (unit level: fakes allowed here)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from adapters.base import AdapterConfig, VendorAdapter
from adapters.errors import NotSupported, VendorRateLimited, VendorTimeout
from adapters.models import Capability, VendorIdentity, VendorUser
from bot.config import parse_config
from bot.runtime import build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.call import call_command
from handlers.errors import explain
from handlers.queue import queue_command
from handlers.reply import Reply
from handlers.work import run_work


class DirectoryOnly(VendorAdapter):
    """A vendor that can only list users: everything else must be refused plainly."""

    name = "dstny"
    display_name = "Tinyvendor"
    config_model = AdapterConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.DIRECTORY})

    async def aclose(self) -> None:
        return None

    def service_identity(self) -> VendorIdentity:
        return VendorIdentity(vendor=self.name, user_id="svc")

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        return [VendorUser(user_id="alice", name="Alice", email="alice@example.com", number="+4571000001")]


@pytest.fixture
def services():  # type: ignore[no-untyped-def]
    config = parse_config({}, source="test", env={})
    adapter = DirectoryOnly(AdapterConfig(base_url="http://127.0.0.1:9"))  # type: ignore[arg-type]
    users = StaticUserDirectory([SlackUser(id="U1", name="Alice", email="alice@example.com", tz="Europe/Oslo")])
    return build_services(config, store=MemoryStore(), adapters={"dstny": adapter}, users=users)


async def test_unsupported_capability_names_vendor_and_capability(services) -> None:  # type: ignore[no-untyped-def]
    reply = await run_work(
        lambda: call_command(services, user_id="U1", text="+4571999999"), notify_slow=_noop, notice_after=5
    )
    assert reply.text == ":no_entry_sign: Tinyvendor doesn't offer click-to-dial, so I can't do that."
    reply = await run_work(
        lambda: queue_command(services, user_id="U1", text="status"), notify_slow=_noop, notice_after=5
    )
    assert "Tinyvendor doesn't offer queue status" in reply.text


async def test_slow_work_sends_one_notice_then_the_answer() -> None:
    notices: list[str] = []

    async def slow() -> Reply:
        import asyncio

        await asyncio.sleep(0.2)
        return Reply(text="done")

    async def notify() -> None:
        notices.append("slow")

    reply = await run_work(slow, notify_slow=notify, notice_after=0.05)
    assert reply.text == "done" and notices == ["slow"]


async def test_unexpected_errors_never_show_a_traceback() -> None:
    async def broken() -> Reply:
        raise KeyError("secret-internal-detail")

    reply = await run_work(broken, notify_slow=_noop, notice_after=5)
    assert "Something went wrong on phonebot's side" in reply.text
    assert "secret-internal-detail" not in reply.text and "KeyError" not in reply.text


def test_explanations_are_plain() -> None:
    assert "about 6 s" in explain(VendorRateLimited("Dstny", "x", retry_after=5)).text
    assert "didn't answer in time" in explain(VendorTimeout("Dstny", "x")).text
    assert (
        "Relatel doesn't offer named presence activities"
        in explain(NotSupported("Relatel", "named presence activities")).text
    )


async def _noop() -> None:
    return None
