"""Redaction: credentials, secret URLs and caller numbers never reach a log line."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel, SecretStr

from adapters.redaction import MASK, SECRETS, SecretRegistry, install_log_redaction, redact


class _Vendor(BaseModel):
    token: SecretStr
    other: list[SecretStr] = []


class _Config(BaseModel):
    vendors: dict[str, _Vendor]


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Authorization: Bearer relatel-admin-token-77", "relatel-admin-token-77"),
        ('{"error":"bad","headers":{"Authorization":"Token abcdef123456"}}', "abcdef123456"),
        ("posting to xoxb-1234-5678-abcdef", "1234-5678-abcdef"),
        ("app xapp-1-A0-123-abc", "A0-123-abc"),
        ("GET /api?api_key=k3y-value-999&x=1", "k3y-value-999"),
        ('{"token": "s3cr3t-value"}', "s3cr3t-value"),
        ("respond to https://hooks.slack.com/commands/T1/123/abcXYZ", "abcXYZ"),
        ("GET /voicemails/relatel/voicemail-502:1796170614.y4aUUcsYE4mC", "y4aUUcsYE4mC"),
        ("POST /webhooks/tele2/account.Qk3f9x/LostCallerAdded", "Qk3f9x"),
        ("caller +4571999999 missed", "71999999"),
    ],
)
def test_secret_shapes_are_masked(text: str, gone: str) -> None:
    assert gone not in redact(text)


def test_configured_secrets_are_masked_anywhere() -> None:
    registry = SecretRegistry()
    registry.add_from(_Config(vendors={"r": _Vendor(token=SecretStr("plainword42"), other=[SecretStr("zz-top-99")])}))
    assert registry.mask("echo plainword42 and zz-top-99!") == f"echo {MASK} and {MASK}!"
    registry.add("short")  # too short to mask safely: ignored
    assert registry.mask("short") == "short"


def test_every_log_record_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    SECRETS.add("configured-secret-value")
    log = logging.getLogger("phonebot.test")
    with caplog.at_level(logging.DEBUG):
        log.warning("vendor said %s", "configured-secret-value, Bearer abc.def.ghi")
        try:
            raise ValueError("boom with Bearer very-secret-token")
        except ValueError:
            log.exception("failed")
    text = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "configured-secret-value" not in text and "abc.def.ghi" not in text
    assert "very-secret-token" not in text
    assert "vendor said" in text and "failed" in text
