"""Each adapter's declared capabilities match the methods it really implements (Libcloud habit)."""

from __future__ import annotations

import pytest

from adapters.base import VendorAdapter
from adapters.models import Capability
from adapters.registry import ADAPTERS, adapter_class

#: The contract method(s) that make each capability real.
METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.PRESENCE_READ: ("get_presence",),
    Capability.PRESENCE_WRITE: ("set_presence",),
    Capability.PRESENCE_ACTIVITIES: ("list_activities",),
    Capability.DIAL: ("dial",),
    Capability.CALL_FORWARD: ("set_forwarding", "get_forwarding"),
    Capability.QUEUE_STATUS: ("queue_status",),
    Capability.QUEUE_LOGIN: ("queue_login",),
    Capability.CONTACT_SEARCH: ("search_contacts",),
    Capability.DIRECTORY: ("list_users",),
    Capability.ALERT_WEBHOOKS: ("parse_webhook",),
    Capability.ALERT_POLLING: ("poll_alerts",),
    Capability.ALERT_CLAIM: ("claim_alert",),
    Capability.VOICEMAIL_HEARD: ("mark_voicemail_heard",),
    Capability.VOICEMAIL_AUDIO: ("voicemail_audio",),
}


def overrides(cls: type[VendorAdapter], method: str) -> bool:
    return getattr(cls, method) is not getattr(VendorAdapter, method)


@pytest.mark.parametrize("vendor", sorted(ADAPTERS))
def test_declared_capabilities_are_implemented_and_vice_versa(vendor: str) -> None:
    cls = adapter_class(vendor)
    for capability, methods in METHODS.items():
        implemented = all(overrides(cls, m) for m in methods)
        assert implemented == (capability in cls.capabilities), f"{vendor}: {capability} vs {methods}"


def test_every_capability_has_a_method() -> None:
    assert set(METHODS) == set(Capability)


def test_capability_matrix_in_readme_names_every_vendor() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for vendor in ADAPTERS:
        assert adapter_class(vendor).display_name in readme
