"""Relatel's OAuth 2.0 authorization-code flow, as seed 000 (~11-17) documents it.

A person links their own Relatel account: phonebot sends them to ``/api/v2/authorize`` with its
application id and redirect URI; Relatel asks them to log in and grant access, then sends them
back to the redirect URI with ``?code=REQUEST_TOKEN``; phonebot ``POST``s to ``/api/v2/token``
with the id, the secret, ``grant_type=authorization_code``, the redirect URI and the code, all as
*query* parameters (that is how 000 prints it), and gets ``{"access_token": "ACCESS_TOKEN"}``.

000 documents no refresh token, expiry or scopes, and no ``state`` parameter. phonebot sends
``state`` anyway (OAuth 2.0, RFC 6749 section 4.1.1, has the server return it unchanged); the caller
binds the flow to one Slack user by other means as well, so nothing depends on Relatel echoing it.
Neither error bodies nor the code or token are ever logged or shown.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from adapters.errors import VendorAuthError, VendorRejected, VendorTimeout, VendorUnavailable

log = logging.getLogger(__name__)

VENDOR = "Relatel"
#: 000 ~12 ``https://app.relatel.dk/api/v2/authorize?client_id=…&response_type=code&redirect_uri=…``.
AUTHORIZE_PATH = "/authorize"
#: 000 ~16 ``https://app.relatel.dk/api/v2/token?client_id=…&client_secret=…&grant_type=authorization_code&…``.
TOKEN_PATH = "/token"
MAX_TOKEN_ANSWER_BYTES = 16_384


@dataclass(frozen=True)
class RelatelOAuthClient:
    """The two steps of the flow for one registered Relatel application."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    timeout: float = 10.0

    def authorize_url(self, state: str) -> str:
        """Where to send the person: Relatel's consent page for this application."""
        query = {"client_id": self.client_id, "response_type": "code", "redirect_uri": self.redirect_uri}
        return f"{self.base_url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode({**query, 'state': state})}"

    async def exchange(self, code: str, *, transport: httpx.AsyncBaseTransport | None = None) -> str:
        """The access token for the request token ``code``.

        Raises:
            VendorAuthError: Relatel refused the code or the application's credentials.
            VendorRejected: the answer has no access token.
            VendorTimeout / VendorUnavailable: Relatel could not be reached or failed.
        """
        params = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": self.redirect_uri,
            "code": code,
        }
        url = f"{self.base_url.rstrip('/')}{TOKEN_PATH}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=transport) as http:
                answer = await http.post(url, params=params, headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise VendorTimeout(VENDOR, "the token exchange timed out") from exc
        except httpx.HTTPError as exc:
            raise VendorUnavailable(VENDOR, "the token endpoint could not be reached") from exc
        if answer.status_code in (400, 401, 403):
            log.warning("relatel oauth: the token exchange was refused (HTTP %d)", answer.status_code)
            raise VendorAuthError(VENDOR, "Relatel refused the authorization code")
        if answer.status_code >= 300:
            raise VendorUnavailable(VENDOR, f"the token endpoint answered HTTP {answer.status_code}")
        token = _access_token(answer.content)
        if token is None:
            raise VendorRejected(VENDOR, "Relatel's answer carried no access token")
        return token


def _access_token(body: bytes) -> str | None:
    """``access_token`` of 000's ``{ "access_token": "ACCESS_TOKEN" }``, if it is a sane string."""
    if len(body) > MAX_TOKEN_ANSWER_BYTES:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    token = parsed.get("access_token") if isinstance(parsed, dict) else None
    if isinstance(token, str) and 0 < len(token) <= 512 and token.isprintable() and " " not in token:
        return token
    return None
