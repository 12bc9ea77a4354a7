"""A vendor's error body is data: it never reaches the user, and reaches the log only redacted.

Relatel answers some bad requests with the request echoed back, ``Authorization`` header
included; phonebot must not show that to Bob, nor write it into its log.
"""

from __future__ import annotations

import logging

import pytest

from bot.simulate import RELATEL_ADMIN_TOKEN, RELATEL_BOB_TOKEN
from tests.e2e.conftest import RunningApp

pytestmark = pytest.mark.e2e

ECHO = {
    "message": f"Invalid number. Request was: Authorization: Bearer {RELATEL_BOB_TOKEN}; admin {RELATEL_ADMIN_TOKEN}",
    "request": {"headers": {"Authorization": f"Bearer {RELATEL_BOB_TOKEN}"}, "to": "<!channel> +4571999999"},
}


@pytest.mark.phonebot(default_vendor="relatel")
def test_an_echoing_error_body_never_reaches_the_user_or_the_log(
    app: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    app.phones.relatel.respond_with("POST", "/switch/dial", ECHO, status=422)
    with caplog.at_level(logging.DEBUG):
        answer, response_url = app.command("/call", "+4571999999", user="U0BOB")
        assert answer.status_code == 200
        reply = app.reply(response_url)

    text = str(reply)
    assert RELATEL_BOB_TOKEN not in text and RELATEL_ADMIN_TOKEN not in text
    assert "Request was" not in text and "<!channel>" not in text  # phonebot's words, not the vendor's
    assert "Relatel refused the request (422" in reply["text"]
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "Relatel refused switch.dial (422)" in logged  # the redacted excerpt is there for operators
    assert RELATEL_BOB_TOKEN not in logged and RELATEL_ADMIN_TOKEN not in logged
    assert "4571999999" not in logged  # nor the number called
