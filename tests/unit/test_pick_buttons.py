"""Pick buttons (``call_pick``, ``queue_login_pick``) act only on choices phonebot issued, to whom it issued them.

Unit level: an in-test vendor records what it was asked to do; the store is the embedded Redis.
Each pick type gets a crafted value and an expired one, and a kind answer for both.
"""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from adapters.base import AdapterConfig, VendorAdapter
from adapters.models import Capability, Contact, DialResult, QueueStatus, VendorIdentity, VendorUser
from bot.config import parse_config
from bot.runtime import build_services
from bot.slack_users import SlackUser, StaticUserDirectory
from bot.store import MemoryStore
from handlers.call import PICK_ACTION, call_command, call_pick_action
from handlers.choices import CHOICE_TTL_SECONDS, Choices
from handlers.context import Services
from handlers.queue import LOGIN_PICK_ACTION, queue_command, queue_login_pick_action
from handlers.reply import Reply

USERS = {"alice": "U0ALICE", "bob": "U0BOB", "carol": "U0CAROL"}


class Switchboard(VendorAdapter):
    """A vendor with two queues everyone is in; it records logins and dials."""

    name = "dstny"
    display_name = "Switchboard"
    config_model = AdapterConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.DIRECTORY,
            Capability.QUEUE_STATUS,
            Capability.QUEUE_LOGIN,
            Capability.DIAL,
            Capability.CONTACT_SEARCH,
        }
    )

    def __init__(self) -> None:
        super().__init__(AdapterConfig(base_url="http://127.0.0.1:9"))  # type: ignore[arg-type]
        self.logins: list[tuple[str, str, bool]] = []
        self.dials: list[tuple[str, str]] = []

    async def aclose(self) -> None:
        return None

    def service_identity(self) -> VendorIdentity:
        return VendorIdentity(vendor=self.name, user_id="svc")

    async def list_users(self, identity: VendorIdentity) -> list[VendorUser]:
        return [VendorUser(user_id=name, name=name.title(), email=f"{name}@example.com") for name in USERS]

    async def queue_status(self, identity: VendorIdentity) -> list[QueueStatus]:
        return [
            QueueStatus(group_id="g-sales", name="Sales", me_logged_in=False),
            QueueStatus(group_id="g-support", name="Support", me_logged_in=False),
        ]

    async def queue_login(self, identity: VendorIdentity, group_id: str, *, logged_in: bool) -> None:
        self.logins.append((identity.user_id, group_id, logged_in))

    async def search_contacts(self, identity: VendorIdentity, query: str) -> list[Contact]:
        return [
            Contact(id="c1", name="Jens A", number="+4540000001"),
            Contact(id="c2", name="Jens B", number="+4540000002"),
        ]

    async def dial(self, identity: VendorIdentity, number: str) -> DialResult:
        self.dials.append((identity.user_id, number))
        return DialResult(target=number)


@pytest.fixture
def vendor() -> Switchboard:
    return Switchboard()


@pytest.fixture
def services(vendor: Switchboard) -> Services:
    config = parse_config({"admins": ["U0ALICE"]}, source="test", env={})
    users = StaticUserDirectory(
        [
            SlackUser(id=uid, name=name, email=f"{name}@example.com", tz="Europe/Copenhagen")
            for name, uid in USERS.items()
        ]
    )
    return build_services(config, store=MemoryStore(), adapters={"dstny": vendor}, users=users)


async def offered(services: Services, text: str, *, user: str) -> list[str]:
    """The tokens on the queue buttons ``/queue <text>`` offers ``user``."""
    reply = await queue_command(services, user_id=user, text=text)
    assert reply.buttons, reply.text
    return [button.value for button in reply.buttons]


def expired(reply: Reply) -> bool:
    return "have expired" in reply.text and "run `/queue login` again" in reply.text and reply.replace_original


async def test_a_queue_pick_logs_in_only_what_was_offered(services: Services, vendor: Switchboard) -> None:
    sales, _ = await offered(services, "login s", user="U0BOB")
    assert await services.store.ttl(f"choice:{LOGIN_PICK_ACTION}:{sales}") <= CHOICE_TTL_SECONDS  # type: ignore[operator]
    reply = await queue_login_pick_action(services, user_id="U0BOB", value=sales)
    assert reply.text == ":white_check_mark: You're logged in to *Sales*." and vendor.logins == [
        ("bob", "g-sales", True)
    ]


@pytest.mark.parametrize(
    "crafted",
    [
        "g-support",
        json.dumps({"group_id": "g-support", "login": True, "name": "Support"}),  # what buttons used to carry
        "A" * 16,  # shaped like a token, never issued
        "",
        "../../etc",
    ],
)
async def test_a_crafted_queue_pick_value_gets_a_kind_answer(
    services: Services, vendor: Switchboard, crafted: str
) -> None:
    assert expired(await queue_login_pick_action(services, user_id="U0BOB", value=crafted))
    assert vendor.logins == []


async def test_an_expired_queue_pick_gets_a_kind_answer(services: Services, vendor: Switchboard) -> None:
    sales, _ = await offered(services, "login s", user="U0BOB")
    await services.store.delete(f"choice:{LOGIN_PICK_ACTION}:{sales}")  # what its TTL does after 15 minutes
    assert expired(await queue_login_pick_action(services, user_id="U0BOB", value=sales))
    assert vendor.logins == []


@pytest.mark.parametrize("login", ["false", "true", 1, 0, None])
async def test_only_a_json_boolean_is_a_login_the_string_false_is_never_true(
    services: Services, vendor: Switchboard, login: object
) -> None:
    choice = {"group_id": "g-sales", "login": login, "name": "Sales", "offered_to": "U0BOB", "for": None}
    token = await Choices(services.store, LOGIN_PICK_ACTION).offer(choice)
    assert expired(await queue_login_pick_action(services, user_id="U0BOB", value=token))
    assert vendor.logins == []


async def test_a_queue_pick_works_only_for_whom_it_was_offered(services: Services, vendor: Switchboard) -> None:
    sales, _ = await offered(services, "login s", user="U0BOB")
    assert expired(await queue_login_pick_action(services, user_id="U0CAROL", value=sales))
    assert vendor.logins == []


async def test_an_admins_pick_for_someone_else_is_checked_again_at_the_click(
    services: Services, vendor: Switchboard
) -> None:
    sales, support = await offered(services, "logout <@U0BOB|bob> s", user="U0ALICE")
    reply = await queue_login_pick_action(services, user_id="U0ALICE", value=sales)
    assert reply.text == ":white_check_mark: <@U0BOB> is logged out of *Sales*."
    assert vendor.logins == [("bob", "g-sales", False)]  # Bob's identity, not Alice's
    from bot.permissions import AdminPolicy

    services.permissions = AdminPolicy(())  # Alice is no longer an admin
    reply = await queue_login_pick_action(services, user_id="U0ALICE", value=support)
    assert "You can act only on your own queues" in reply.text and reply.replace_original
    assert vendor.logins == [("bob", "g-sales", False)]


async def test_a_non_admin_cant_act_on_someone_elses_queues(services: Services, vendor: Switchboard) -> None:
    for text in ("logout <@U0ALICE|alice> sales", "login <@U0ALICE>", "status <@U0ALICE>", "<@U0ALICE>"):
        reply = await queue_command(services, user_id="U0BOB", text=text)
        assert "You can act only on your own queues" in reply.text and not reply.buttons
    assert vendor.logins == []
    reply = await queue_command(services, user_id="U0BOB", text="login <@U0BOB|bob> sales")  # oneself is fine
    assert reply.text == ":white_check_mark: You're logged in to *Sales*."


async def test_an_admin_is_told_kindly_when_the_other_person_isnt_linked(services: Services) -> None:
    reply = await queue_command(services, user_id="U0ALICE", text="login <@U0NOBODY> sales")
    assert reply.text.startswith(":link: I don't know which phone-system user <@U0NOBODY> is")


async def test_an_expired_or_crafted_contact_pick_gets_a_kind_answer(services: Services, vendor: Switchboard) -> None:
    reply = await call_command(services, user_id="U0BOB", text="jens")
    tokens = [button.value for button in reply.buttons]
    assert len(tokens) == 2 and all("+45" not in token for token in tokens)
    await services.store.delete(f"choice:{PICK_ACTION}:{tokens[0]}")
    for value in (tokens[0], json.dumps({"number": "+4599999999"}), "+4599999999"):
        reply = await call_pick_action(services, user_id="U0BOB", value=value)
        assert "run `/call` again" in reply.text and reply.replace_original
    assert vendor.dials == []
    reply = await call_pick_action(services, user_id="U0BOB", value=tokens[1])
    assert vendor.dials == [("bob", "+4540000002")]


async def test_a_queue_name_that_matches_nothing_is_echoed_as_plain_text(services: Services) -> None:
    reply = await queue_command(services, user_id="U0BOB", text="status &lt;!channel&gt; `x`")
    assert "No queue matches" in reply.text and "<!channel>" not in reply.text and "&lt;!channel&gt;" in reply.text
