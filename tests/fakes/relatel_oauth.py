"""The Relatel simulator with one registered OAuth application, served on loopback (unit tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.relatel.simulator import RelatelSimulator
from adapters.simulation import LoopbackServer

#: The registered application: its id, secret and redirect URI.
APP_ID = "app-1"
APP_SECRET = "s3cret"
REDIRECT = "https://phonebot.example/link/relatel/callback"


@pytest.fixture
def oauth_sim() -> RelatelSimulator:
    simulator = RelatelSimulator()
    simulator.oauth_apps[APP_ID] = (APP_SECRET, REDIRECT)
    return simulator


@pytest.fixture
def oauth_server(oauth_sim: RelatelSimulator) -> Iterator[LoopbackServer]:
    with LoopbackServer(oauth_sim.build_app()) as running:
        yield running
