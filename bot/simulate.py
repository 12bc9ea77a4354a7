"""Run the built-in vendor simulators on loopback and describe them as phonebot config.

Used by ``phonebot console --simulate`` and ``phonebot serve --simulate`` so phonebot runs
on a fresh machine with no credentials, and by the end-to-end tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.dstny.simulator import DstnySimulator
from adapters.multisender.simulator import API_TOKEN as MULTISENDER_API_TOKEN
from adapters.multisender.simulator import MultisenderSimulator
from adapters.relatel.simulator import WEBHOOK_SECRET as RELATEL_WEBHOOK_SECRET
from adapters.relatel.simulator import RelatelSimulator
from adapters.simulation import LoopbackServer
from adapters.tele2.simulator import API_KEY as TELE2_API_KEY
from adapters.tele2.simulator import Tele2Simulator
from bot.slack_users import SlackUser

DSTNY_TOKEN = "dstny-demo-token"
RELATEL_ADMIN_TOKEN = "relatel-admin-token"
RELATEL_BOB_TOKEN = "relatel-bob-token"

#: The pretend Slack workspace of the simulation; emails match the simulators' directories.
DEMO_SLACK_USERS = [
    SlackUser(id="U0ALICE", name="Alice Andersen", email="alice@example.com", tz="Europe/Copenhagen", is_admin=True),
    SlackUser(id="U0BOB", name="Bob Berg", email="bob@example.com", tz="Europe/Copenhagen"),
    SlackUser(id="U0CAROL", name="Carol Christensen", email="carol@example.com", tz="Europe/Vilnius"),
]


@dataclass
class SimulatedPhoneSystems:
    """Running simulators and their loopback servers."""

    dstny: DstnySimulator = field(default_factory=DstnySimulator)
    relatel: RelatelSimulator = field(default_factory=RelatelSimulator)
    tele2: Tele2Simulator = field(default_factory=Tele2Simulator)
    multisender: MultisenderSimulator = field(default_factory=MultisenderSimulator)
    servers: dict[str, LoopbackServer] = field(default_factory=dict)

    def start(self) -> SimulatedPhoneSystems:
        self.servers["dstny"] = LoopbackServer(self.dstny.build_app()).start()
        self.servers["relatel"] = LoopbackServer(self.relatel.build_app()).start()
        self.servers["tele2"] = LoopbackServer(self.tele2.build_app()).start()
        self.servers["multisender"] = LoopbackServer(self.multisender.build_app()).start()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.request_stop()  # all at once: each takes a tick of its event loop to notice
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def url(self, vendor: str) -> str:
        return self.servers[vendor].url

    def config(self, *, default_vendor: str = "dstny") -> dict[str, Any]:
        """A phonebot config (as loaded YAML) pointing at the simulators.

        Dstny users are matched by Slack email; on Relatel each person uses their own
        token (the API rings the token owner's phone), so the demo maps them explicitly.
        """
        return {
            "default_country": "DK",
            "timezone": "Europe/Copenhagen",
            "default_vendor": default_vendor,
            "vendors": {
                "dstny": {
                    "base_url": self.url("dstny"),
                    "token": DSTNY_TOKEN,
                    "domain": "example.com",
                    "user": "phonebot",
                },
                "relatel": {
                    "base_url": self.url("relatel") + "/api/v2",
                    "token": RELATEL_ADMIN_TOKEN,
                    "webhook_secret": RELATEL_WEBHOOK_SECRET,
                },
                "tele2": {"base_url": self.url("tele2") + "/api/v2/", "api_key": TELE2_API_KEY},
                "multisender": {"base_url": self.url("multisender") + "/v1/", "api_token": MULTISENDER_API_TOKEN},
            },
            "users": (
                [
                    {"slack": "U0ALICE", "vendor": "relatel", "vendor_user": "1", "token": RELATEL_ADMIN_TOKEN},
                    {"slack": "U0BOB", "vendor": "relatel", "vendor_user": "2", "token": RELATEL_BOB_TOKEN},
                    {"slack": "U0CAROL", "vendor": "relatel", "vendor_user": "3"},
                ]
                if default_vendor == "relatel"
                else []
            ),
            "admins": ["U0ALICE"],
        }

    def __enter__(self) -> SimulatedPhoneSystems:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
