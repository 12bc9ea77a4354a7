"""Encryption at rest for the secrets phonebot keeps in its store (Slack bot, user and refresh tokens).

The key comes from ``PHONEBOT_SECRET_KEY``: one or more Fernet keys, comma-separated. The first
encrypts; every one decrypts, so a key is rotated by putting a new one first and keeping the old
one after it until every record was written again (``cryptography``'s ``MultiFernet``). Fernet is
AES-128-CBC with an HMAC-SHA256 over the whole token, so a value changed in the store is refused,
never decrypted to garbage. A key is 32 random bytes, URL-safe base64::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"

Every key is registered with :data:`adapters.redaction.SECRETS`, so none can reach a log line.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from adapters.redaction import SECRETS

__all__ = ["GENERATE_KEY", "SecretBox", "SecretKeyError", "SecretUnreadable"]

GENERATE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class SecretKeyError(ValueError):
    """``PHONEBOT_SECRET_KEY`` is unusable; the message is one line for the operator (never the key)."""


class SecretUnreadable(Exception):
    """A sealed value could not be opened: written with a key no longer configured, or altered."""


class SecretBox:
    """Seals and opens strings with the configured Fernet keys (the first one seals)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretKeyError(f"PHONEBOT_SECRET_KEY is empty; generate a key with: {GENERATE_KEY}")
        fernets: list[Fernet] = []
        for number, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # The message names the position only: the value is a secret even when it is malformed.
                raise SecretKeyError(
                    f"PHONEBOT_SECRET_KEY: key {number} of {len(keys)} is not a Fernet key "
                    f"(32 bytes, URL-safe base64); generate one with: {GENERATE_KEY}"
                ) from None
        SECRETS.add(*keys)
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    @classmethod
    def from_setting(cls, value: SecretStr | str) -> SecretBox:
        """The box for a ``PHONEBOT_SECRET_KEY`` value (comma-separated keys, blanks ignored)."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return cls([part.strip() for part in raw.split(",") if part.strip()])

    def seal(self, plaintext: str) -> str:
        """``plaintext`` encrypted and authenticated with the first key (a URL-safe ASCII token)."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The plaintext of ``sealed``; :class:`SecretUnreadable` when no configured key opens it."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise SecretUnreadable("a stored secret could not be decrypted with PHONEBOT_SECRET_KEY") from None
