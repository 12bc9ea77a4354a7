"""Issue 11 point 5 (encryption): PHONEBOT_SECRET_KEY, Fernet/MultiFernet, rotation, one-line refusals."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from adapters.redaction import redact
from bot.secret_box import SecretBox, SecretKeyError, SecretUnreadable

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_sealed_values_open_again_and_do_not_show_the_secret() -> None:
    box = SecretBox.from_setting(OLD)
    sealed = box.seal("xoxb-1-2-secret-token")
    assert "xoxb" not in sealed and "secret-token" not in sealed
    assert box.open(sealed) == "xoxb-1-2-secret-token"
    assert box.seal("same") != box.seal("same")  # a fresh IV every time


def test_rotation_new_key_first_seals_old_key_after_still_opens() -> None:
    written_before = SecretBox.from_setting(OLD).seal("token")
    rotated = SecretBox.from_setting(f" {NEW} , {OLD} ")
    assert rotated.key_count == 2 and rotated.open(written_before) == "token"
    written_after = rotated.seal("token")
    assert SecretBox.from_setting(NEW).open(written_after) == "token"
    with pytest.raises(SecretUnreadable):
        SecretBox.from_setting(OLD).open(written_after)


def test_a_value_changed_in_the_store_is_refused_not_garbled() -> None:
    box = SecretBox.from_setting(OLD)
    sealed = box.seal("token")
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    for bad in (tampered, "not a token", ""):
        with pytest.raises(SecretUnreadable):
            box.open(bad)


@pytest.mark.parametrize(
    "value",
    ["", " , ", "hunter2-not-a-fernet-key", f"{OLD},short"],
    ids=["empty", "commas", "not-a-key", "a-key-then-a-short-one"],  # OLD is random: ids must not carry it (xdist)
)
def test_an_unusable_key_is_one_line_that_never_shows_the_key(value: str) -> None:
    with pytest.raises(SecretKeyError) as raised:
        SecretBox.from_setting(value)
    message = str(raised.value)
    assert "\n" not in message and "PHONEBOT_SECRET_KEY" in message and "Fernet.generate_key" in message
    assert "hunter2" not in message and "short" not in message


def test_keys_are_never_logged() -> None:
    key = Fernet.generate_key().decode()
    SecretBox.from_setting(key)
    assert key not in redact(f"PHONEBOT_SECRET_KEY={key} and {key}")
