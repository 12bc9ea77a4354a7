"""A presence write the vendor never confirmed: read back once, tell the real state, keep the label if it landed."""

from __future__ import annotations

from typing import ClassVar

import pytest

from adapters.base import AdapterConfig, VendorAdapter
from adapters.errors import VendorError, VendorTimeout
from adapters.models import Capability, Presence, PresenceChange, VendorIdentity, VendorUser
from bot.config import parse_config
from bot.runtime import build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.context import Services
from handlers.presence import LABEL_KEY, presence_command


class UnconfirmedDnd(VendorAdapter):
    """A DND-only vendor whose writes are never answered; its read-back says ``shows``."""

    name = "dstny"
    display_name = "Slowvendor"
    config_model = AdapterConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.DIRECTORY, Capability.PRESENCE_READ, Capability.PRESENCE_WRITE}
    )
    shows: Presence | VendorError = Presence(available=True)
    writes = 0
    reads = 0

    async def aclose(self) -> None:
        return None

    def service_identity(self) -> VendorIdentity:
        return VendorIdentity(vendor=self.name, user_id="svc")

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        return [VendorUser(user_id="alice", name="Alice", email="alice@example.com", number="+4571000001")]

    async def set_presence(self, identity: VendorIdentity, change: PresenceChange) -> Presence:
        self.writes += 1
        raise VendorTimeout(self.display_name, "did not answer in time", outcome_unknown=True)

    async def get_presence(self, identity: VendorIdentity) -> Presence:
        self.reads += 1
        if isinstance(self.shows, VendorError):
            raise self.shows
        return self.shows


@pytest.fixture
def vendor() -> UnconfirmedDnd:
    return UnconfirmedDnd(AdapterConfig(base_url="http://127.0.0.1:9"))  # type: ignore[arg-type]


@pytest.fixture
def services(vendor: UnconfirmedDnd) -> Services:
    config = parse_config({}, source="test", env={})
    users = StaticUserDirectory([SlackUser(id="U1", name="Alice", email="alice@example.com", tz="Europe/Oslo")])
    return build_services(config, store=MemoryStore(), adapters={"dstny": vendor}, users=users)


async def _label(services: Services) -> str | None:
    return await services.store.get(LABEL_KEY.format(vendor="dstny", user="alice"))


async def test_a_write_that_did_not_land_is_reported_with_what_the_phone_shows(
    services: Services, vendor: UnconfirmedDnd
) -> None:
    reply = await presence_command(services, user_id="U1", text="lunch 45m")
    assert "Slowvendor didn't confirm in time, and your phone shows *Available*" in reply.text
    assert "may still arrive" in reply.text and "Nothing was changed" not in reply.text
    assert (vendor.writes, vendor.reads) == (1, 1)
    assert await _label(services) is None  # phonebot's label only for a write that landed


async def test_a_failed_read_back_says_the_outcome_is_unknown(services: Services, vendor: UnconfirmedDnd) -> None:
    vendor.shows = VendorTimeout("Slowvendor", "did not answer in time")
    with pytest.raises(VendorTimeout) as caught:
        await presence_command(services, user_id="U1", text="lunch 45m")
    assert caught.value.outcome_unknown  # explain() then says it may have gone through, not "nothing changed"
    assert vendor.reads == 1
    assert await _label(services) is None
