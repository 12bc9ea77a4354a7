"""Inbound Slack requests (slash commands, clicks, modal submissions, events), signed exactly as Slack signs them.

Slack signs ``v0:{X-Slack-Request-Timestamp}:{raw body}`` with HMAC-SHA256 keyed by the app's
signing secret and sends ``v0=<hex>`` as ``X-Slack-Signature``; Bolt refuses anything older
than 5 minutes. :class:`SlackSigner` builds the raw bodies in Slack's wire formats (form fields
for commands, ``payload=<JSON>`` for interactivity, JSON for events) and signs them with
``slack_sdk``'s own :class:`~slack_sdk.signature.SignatureVerifier`; every builder can also
forge the signature or make the timestamp stale. :class:`SlackClientSim` posts them over real
HTTP to a running phonebot::

    signer = SlackSigner("test-signing-secret")
    sim = SlackClientSim(app_server.url, signer)
    response = await sim.send(*signer.slash_command("/call", "+4571999999", user_id="U1",
                                                     user_name="ada", response_url=url))
    assert response.status_code == 200 and response.elapsed.total_seconds() < 3
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

__all__ = ["FORM", "JSON", "STALE_SECONDS", "SlackClientSim", "SlackSigner"]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
STALE_SECONDS = 600
"""How old a "stale" request's timestamp is (Bolt accepts at most 300 s)."""
VERIFICATION_TOKEN = "legacy-verification-token"
API_APP_ID = "A0001"
TEAM_DOMAIN = "phonebot-test"

_trigger_counter = itertools.count(1)


def _trigger_id() -> str:
    return f"{next(_trigger_counter)}.{int(time.time())}.{secrets.token_hex(16)}"


class SlackSigner:
    """Signs request bodies with a signing secret, and builds the requests Slack sends.

    Every builder returns ``(body_bytes, headers)`` ready for :meth:`SlackClientSim.send`
    (or ``httpx``/Starlette's ``TestClient``) and takes:

    * ``forge=True`` — sign with a different secret (the app must answer 401);
    * ``stale=True`` — a timestamp :data:`STALE_SECONDS` in the past (401 as well);
    * ``timestamp=`` — an explicit Unix timestamp.

    Args:
        signing_secret: The app's signing secret.
        clock: Wall clock in seconds, for the default timestamp.
    """

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.signing_secret = signing_secret
        self.clock = clock
        self._verifier = SignatureVerifier(signing_secret)
        self._forger = SignatureVerifier("forged-" + signing_secret)

    def headers(self, body: bytes, *, timestamp: int | None = None, forge: bool = False) -> dict[str, str]:
        """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` for ``body``.

        Args:
            body: The exact bytes that will be sent.
            timestamp: Unix seconds; now by default.
            forge: Sign with a wrong secret.
        """
        ts = str(int(self.clock()) if timestamp is None else timestamp)
        verifier = self._forger if forge else self._verifier
        signature = verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None  # only None when timestamp is None
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def sign(
        self,
        body: bytes,
        *,
        content_type: str,
        forge: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Sign an arbitrary body; returns ``(body, headers)`` including ``Content-Type``."""
        if stale:
            timestamp = int(self.clock()) - STALE_SECONDS
        headers = self.headers(body, timestamp=timestamp, forge=forge)
        headers["Content-Type"] = content_type
        return body, headers

    def slash_command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        user_name: str,
        response_url: str,
        team_id: str = "T0001",
        team_domain: str = TEAM_DOMAIN,
        channel_id: str = "C0001",
        channel_name: str = "general",
        trigger_id: str | None = None,
        api_app_id: str = API_APP_ID,
        enterprise_id: str | None = None,
        org_wide: bool = False,
        forge: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A slash command invocation, form-encoded with Slack's fields in Slack's order.

        ``enterprise_id`` sends it from a workspace of that Enterprise Grid org; ``org_wide`` marks the
        app as installed for the whole org (``is_enterprise_install=true``).
        """
        fields = [
            ("token", VERIFICATION_TOKEN),
            ("team_id", team_id),
            ("team_domain", team_domain),
        ]
        if enterprise_id is not None:
            fields += [("enterprise_id", enterprise_id), ("enterprise_name", "Grid")]
        fields += [
            ("channel_id", channel_id),
            ("channel_name", channel_name),
            ("user_id", user_id),
            ("user_name", user_name),
            ("command", command),
            ("text", text),
            ("api_app_id", api_app_id),
            ("is_enterprise_install", "true" if org_wide else "false"),
            ("response_url", response_url),
            ("trigger_id", trigger_id or _trigger_id()),
        ]
        body = urlencode(fields).encode()
        return self.sign(body, content_type=FORM, forge=forge, stale=stale, timestamp=timestamp)

    def block_action(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str,
        response_url: str | None,
        channel_id: str | None,
        message_ts: str | None,
        block_id: str = "actions",
        message_blocks: list[dict[str, Any]] | None = None,
        message_text: str = "",
        button_text: str | None = None,
        user_name: str = "user",
        team_id: str = "T0001",
        view_id: str = "V00001",
        view: dict[str, Any] | None = None,
        trigger_id: str | None = None,
        api_app_id: str = API_APP_ID,
        forge: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
        selected_options: list[dict[str, Any]] | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A button click (``type: block_actions``), sent as ``payload=<url-encoded JSON>``.

        With ``selected_options`` it is a checkboxes element's change instead (``value`` unused): Slack sends
        every option ticked now.

        With ``message_ts`` the button sits on a message in ``channel_id`` (the payload has
        ``container.type == "message"``, ``channel``, ``message`` and ``response_url``).
        With ``message_ts=None`` it sits on the App Home tab (``container.type == "view"``),
        for which Slack sends no ``response_url``; pass ``view`` (as the fake's ``views`` holds it)
        for a button in that view instead, e.g. a modal.
        """
        action = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": button_text or value, "emoji": True},
            "value": value,
            "action_ts": f"{self.clock():.6f}",
        }
        if selected_options is not None:
            action = {
                "type": "checkboxes",
                "action_id": action_id,
                "block_id": block_id,
                "selected_options": selected_options,
                "action_ts": action["action_ts"],
            }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
            "api_app_id": api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or _trigger_id(),
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        if message_ts is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": "general"}
            payload["message"] = {
                "type": "message",
                "user": "B0001",
                "bot_id": "B0001",
                "ts": message_ts,
                "text": message_text,
                "blocks": message_blocks or [],
            }
            payload["response_url"] = response_url
        elif view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        else:
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {
                "id": view_id,
                "type": "home",
                "team_id": team_id,
                "blocks": message_blocks or [],
                "state": {"values": {}},
            }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.sign(body, content_type=FORM, forge=forge, stale=stale, timestamp=timestamp)

    def view_submission(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user_id: str,
        user_name: str = "user",
        team_id: str = "T0001",
        trigger_id: str | None = None,
        api_app_id: str = API_APP_ID,
        forge: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A modal's submit (``type: view_submission``), sent as ``payload=<url-encoded JSON>``.

        ``view`` is the modal as the fake's ``views`` holds it (its ``id``, ``callback_id``,
        ``private_metadata``…); ``values`` becomes its ``state.values``: block_id → action_id → the
        element's value object, e.g. ``{"type": "plain_text_input", "value": "x"}``. Slack's shape:
        https://api.slack.com/reference/interaction-payloads/views
        """
        submitted = {**view, "state": {"values": values}}
        submitted.setdefault("team_id", team_id)
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
            "api_app_id": api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or _trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.sign(body, content_type=FORM, forge=forge, stale=stale, timestamp=timestamp)

    def event_callback(
        self,
        event: dict[str, Any],
        *,
        event_id: str,
        team_id: str = "T0001",
        event_time: int | None = None,
        api_app_id: str = API_APP_ID,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        forge: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """An Events API delivery (``type: event_callback``) as JSON.

        ``retry_num`` (1..3) adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``, as on
        Slack's redeliveries of the same ``event_id``.
        """
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self.clock()) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": "B0001",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(12)}",
        }
        body = json.dumps(envelope).encode()
        signed, headers = self.sign(body, content_type=JSON, forge=forge, stale=stale, timestamp=timestamp)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return signed, headers

    def url_verification(
        self, challenge: str, *, forge: bool = False, stale: bool = False
    ) -> tuple[bytes, dict[str, str]]:
        """The ``url_verification`` handshake Slack sends when the Events URL is saved."""
        body = json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})
        return self.sign(body.encode(), content_type=JSON, forge=forge, stale=stale)


class SlackClientSim:
    """Plays Slack's side of inbound HTTP: posts signed bodies to ``{base_url}/slack/events``.

    The returned :class:`httpx.Response` carries ``status_code``, the body (``.text``,
    ``.json()``) and ``elapsed`` (a ``timedelta``; Slack gives up after 3 s).

    Args:
        base_url: Where phonebot listens, e.g. ``http://127.0.0.1:PORT``.
        signer: Signs the requests built through :attr:`signer`.
        path: The Slack request URL's path.
        timeout: Client timeout in seconds (generous: tests assert on ``elapsed`` instead).
    """

    def __init__(
        self, base_url: str, signer: SlackSigner, *, path: str = "/slack/events", timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.path = path
        self.timeout = timeout

    @property
    def url(self) -> str:
        """The full request URL posted to."""
        return self.base_url + self.path

    async def send(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST one request as Slack would and return the answer (already read)."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            return await client.post(self.url, content=body, headers=headers)

    def send_sync(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """:meth:`send` for synchronous tests."""
        with httpx.Client(timeout=self.timeout) as client:
            return client.post(self.url, content=body, headers=headers)
