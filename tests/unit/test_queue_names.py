"""Same-named queues of different kinds are told apart in every ``/queue`` reply (unit level: an in-test adapter)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from adapters.base import AdapterConfig, VendorAdapter
from adapters.models import Capability, QueueStatus, VendorIdentity
from bot.config import parse_config
from bot.runtime import build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.context import Services
from handlers.queue import queue_command, queue_login_pick_action


class TwoSupports(VendorAdapter):
    """Like Relatel: a reception and an employee group, both called "Support"."""

    name = "relatel"
    display_name = "Relatel"
    config_model = AdapterConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.QUEUE_STATUS, Capability.QUEUE_LOGIN})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logins: list[tuple[str, bool]] = []

    async def aclose(self) -> None:
        return None

    def service_identity(self) -> VendorIdentity:
        return VendorIdentity(vendor=self.name, user_id="1")

    async def queue_status(self, identity: VendorIdentity) -> list[QueueStatus]:
        return [
            QueueStatus(group_id="reception:10", name="Support", calls_waiting=2),
            QueueStatus(group_id="group:5", name="support", calls_waiting=0, me_logged_in=False),
            QueueStatus(group_id="group:6", name="Sales", calls_waiting=0, me_logged_in=False),
        ]

    async def queue_login(self, identity: VendorIdentity, group_id: str, *, logged_in: bool) -> None:
        self.logins.append((group_id, logged_in))


@pytest.fixture
def services() -> Services:
    raw = {"vendors": {"relatel": {"token": "t"}}, "users": [{"slack": "U1", "vendor": "relatel", "vendor_user": "1"}]}
    config = parse_config(raw, source="t", env={})
    adapter = TwoSupports(AdapterConfig(base_url="http://127.0.0.1:9"))  # type: ignore[arg-type]
    users = StaticUserDirectory([SlackUser(id="U1", name="Alice", email="alice@example.com", tz="Europe/Copenhagen")])
    return build_services(config, store=MemoryStore(), adapters={"relatel": adapter}, users=users)


async def test_status_names_each_same_named_queue_with_its_id(services: Services) -> None:
    reply = await queue_command(services, user_id="U1", text="status support")
    lines = reply.text.splitlines()
    assert lines[0].startswith("*Support (reception:10)* — ") and lines[1].startswith("*support (group:5)* — ")
    everything = await queue_command(services, user_id="U1", text="status")
    assert "*Sales* — " in everything.text  # a unique name stays as it is


async def test_login_buttons_and_confirmations_tell_them_apart(services: Services) -> None:
    adapter = services.adapters["relatel"]
    assert isinstance(adapter, TwoSupports)
    reply = await queue_command(services, user_id="U1", text="login")  # group:5 and group:6 would change
    assert [b.label for b in reply.buttons] == ["support (group:5)", "Sales"]
    done = await queue_login_pick_action(services, user_id="U1", value=reply.buttons[0].value)
    assert done.text == ":white_check_mark: You're logged in to *support (group:5)*."
    assert adapter.logins == [("group:5", True)]
    direct = await queue_command(services, user_id="U1", text="login group:5")
    assert direct.text == ":white_check_mark: You're logged in to *support (group:5)*."
