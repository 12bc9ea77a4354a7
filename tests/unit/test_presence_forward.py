"""``/presence forward to …`` through the handler: Dstny (simulator over loopback HTTP) and a vendor without it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from adapters.base import AdapterConfig, VendorAdapter
from adapters.dstny.adapter import DstnyAdapter, DstnyConfig
from adapters.dstny.simulator import DEMO_TOKEN, DstnySimulator
from adapters.http import RetryPolicy
from adapters.models import Capability, Presence, PresenceChange, VendorIdentity, VendorUser
from adapters.simulation import LoopbackServer
from bot.config import parse_config
from bot.runtime import build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.context import Services
from handlers.phonebot import phonebot_command
from handlers.presence import presence_command

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Copenhagen
SLACK_USERS = [
    SlackUser(id="U1", name="Alice", email="alice@example.com", tz="Europe/Copenhagen"),
    SlackUser(id="U2", name="Bob", email="bob@example.com", tz="Europe/Copenhagen"),
    SlackUser(id="U9", name="Sam", email="sam@elsewhere.example", tz="Europe/Copenhagen"),
]


@pytest.fixture
def sim() -> Iterator[DstnySimulator]:
    yield DstnySimulator(clock=lambda: NOW)


@pytest.fixture
async def services(sim: DstnySimulator) -> AsyncIterator[Services]:
    with LoopbackServer(sim.build_app()) as server:
        config = DstnyConfig(base_url=server.url, token=DEMO_TOKEN, domain="example.com", user="phonebot")
        adapter = DstnyAdapter(config, retry=RetryPolicy(attempts=1))
        built = build_services(
            parse_config({"default_country": "DK"}, source="test", env={}),
            store=MemoryStore(),
            adapters={"dstny": adapter},
            users=StaticUserDirectory(SLACK_USERS),
        )
        built.clock = lambda: NOW
        yield built
        await adapter.aclose()


async def test_forward_to_a_number_until_a_time(services: Services, sim: DstnySimulator) -> None:
    reply = await presence_command(services, user_id="U1", text="forward to +45 71 99 99 99 until 14:00")

    assert reply.text == (
        ":arrow_right_hook: Your calls now forward to 71 99 99 99 until 14:00, and Dstny shows you *Away* "
        "until then. `/presence available` ends both sooner."
    )
    alice = sim.presence_of("alice")
    assert (alice.diversion, alice.diversion_scoped, alice.activity) == ("+4571999999", True, "away")
    assert alice.expires == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


async def test_forward_to_a_colleague_uses_their_linked_number(services: Services, sim: DstnySimulator) -> None:
    reply = await presence_command(services, user_id="U1", text="forward to <@U2|bob>")

    assert reply.text.startswith(":arrow_right_hook: Your calls now forward to <@U2> (+4571000002), and Dstny")
    assert "with no end time" in reply.text
    assert sim.presence_of("alice").diversion == "+4571000002"  # Bob's number in the directory


async def test_presence_shows_the_forwarding_and_available_ends_it(services: Services, sim: DstnySimulator) -> None:
    await presence_command(services, user_id="U1", text="forward to +45 71 99 99 99")

    shown = await presence_command(services, user_id="U1", text="")
    assert shown.text == "You are *Away* with no end time on Dstny. Your calls forward to 71 99 99 99."
    colleague = await presence_command(services, user_id="U2", text="<@U1|alice>")
    assert "forward" not in colleague.text  # someone's forwarding number is theirs to share

    cleared = await presence_command(services, user_id="U1", text="available")
    assert cleared.text == ":white_check_mark: You're available again on Dstny."
    assert sim.presence_of("alice").diversion is None
    assert (await presence_command(services, user_id="U1", text="")).text == "You are *Available* on Dstny."


async def test_available_says_so_when_a_forwarding_set_elsewhere_remains(
    services: Services, sim: DstnySimulator
) -> None:
    sim.users["alice"].diversion = "+4571999999"  # set in a Dstny app, not tied to the activity

    cleared = await presence_command(services, user_id="U1", text="back")

    assert "Your calls still forward to 71 99 99 99" in cleared.text and "Dstny's own app" in cleared.text


async def test_forwarding_to_yourself_or_to_someone_unlinked_is_refused_kindly(
    services: Services, sim: DstnySimulator
) -> None:
    own = await presence_command(services, user_id="U1", text="forward to <@U1|alice>")
    assert "forward them to someone else" in own.text
    unlinked = await presence_command(services, user_id="U1", text="forward to <@U9|sam>")
    assert "isn't linked" in unlinked.text
    assert sim.presence_of("alice").diversion is None and sim.presence_of("alice").activity == "available"


async def test_whoami_lists_call_forwarding(services: Services) -> None:
    reply = await phonebot_command(services, user_id="U1", text="whoami")
    assert reply.context is not None and "call forwarding" in reply.context.split("Not offered")[0]


class NoForwarding(VendorAdapter):
    """A vendor with presence but no call forwarding."""

    name = "relatel"
    display_name = "Relatel"
    config_model = AdapterConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.DIRECTORY, Capability.PRESENCE_READ, Capability.PRESENCE_WRITE}
    )
    writes = 0

    async def aclose(self) -> None:
        return None

    def service_identity(self) -> VendorIdentity:
        return VendorIdentity(vendor=self.name, user_id="svc")

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        return [VendorUser(user_id="1", name="Alice", email="alice@example.com", number="+4571000001")]

    async def get_presence(self, identity: VendorIdentity) -> Presence:
        return Presence(available=True)

    async def set_presence(self, identity: VendorIdentity, change: PresenceChange) -> Presence:
        self.writes += 1
        return Presence(available=True)


async def test_a_vendor_without_forwarding_gets_a_kind_not_available_answer() -> None:
    vendor = NoForwarding(AdapterConfig(base_url="http://127.0.0.1:9"))  # type: ignore[arg-type]
    services = build_services(
        parse_config({}, source="test", env={}),
        store=MemoryStore(),
        adapters={"relatel": vendor},
        users=StaticUserDirectory(SLACK_USERS),
    )

    reply = await presence_command(services, user_id="U1", text="forward to +45 71 99 99 99")

    assert reply.text.startswith(":no_entry_sign: Call forwarding isn't available on Relatel through phonebot")
    assert vendor.writes == 0
    assert (await presence_command(services, user_id="U1", text="")).text == "You are *Available* on Relatel."
