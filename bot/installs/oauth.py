""" "Add to Slack": ``GET /slack/install`` and ``GET /slack/oauth_redirect`` (Slack OAuth v2, Bolt's flow).

1. ``/slack/install`` issues a single-use ``state`` (:class:`~bot.installs.records.StoreOAuthStateStore`),
   binds it to the browser with a cookie, and shows an "Add to Slack" page linking to Slack's
   authorize URL with phonebot's bot scopes (exactly the manifest's, :data:`BOT_SCOPES`).
2. Slack sends the installer back to ``/slack/oauth_redirect?code=…&state=…``. Bolt checks the
   cookie, takes the state (a replayed, forged or expired one fails), exchanges the code with
   ``oauth.v2.access``, and the installation is saved, encrypted
   (:class:`~bot.installs.records.StoreInstallationStore`). Org-wide (Enterprise Grid) installs
   arrive with ``is_enterprise_install`` and are kept per org, as Bolt documents.
3. The installer sees a short page: done (and where to find phonebot), or what went wrong in plain
   words with a link to start again. Nothing Slack or the browser sent is echoed unescaped.

A new installation clears the workspace's recorded scope drift: it was granted the current scopes.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth import OAuthStateUtils
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.installs.records import StoreInstallationStore, StoreOAuthStateStore, TooManyInstalls, maybe_key
from bot.installs.scope_drift import ScopeDriftLog

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
DEFAULT_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
#: The bot scopes an install asks for: the same as ``app_manifest.yml`` (tests/unit/test_manifest.py).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "users:read.email",
    "channels:history",
    "groups:history",
)
STATE_SECONDS = 600

_START_AGAIN = f'<a href="{INSTALL_PATH}">Start again from Add to Slack</a>'
#: What the installer is told for each reason Bolt's flow can fail with (anything else: the generic one).
FAILURES = {
    "access_denied": "The install was cancelled in Slack, so nothing was installed.",
    "invalid_browser": (
        "This install was started in another browser, or the browser did not keep phonebot's cookie, so it "
        "can't be finished here."
    ),
    "invalid_state": "This install link has expired or was already used.",
    "missing_code": "Slack did not send the approval along, so the install can't be finished.",
    "invalid_code": "Slack did not confirm the install (its approval had expired or was already used).",
    "storage_error": "phonebot could not save the installation. Nothing was installed; try again in a minute.",
}
_REASON = re.compile(r"[a-z0-9_]{1,40}")


def redirect_url(settings: Settings) -> str | None:
    """``{PHONEBOT_PUBLIC_URL}/slack/oauth_redirect``: the Redirect URL to register with Slack."""
    if not settings.phonebot_public_url:
        return None
    return settings.phonebot_public_url.rstrip("/") + REDIRECT_PATH


def page(title: str, body: str) -> str:
    """A small self-contained HTML page (``title`` is escaped; ``body`` must already be safe HTML)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>phonebot: {html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;"
        "line-height:1.5}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


class InstallPages:
    """The pages the installer sees after Slack sends them back (Bolt's callback options)."""

    def __init__(self, state_utils: OAuthStateUtils, drift: ScopeDriftLog) -> None:
        self.state_utils = state_utils
        self.drift = drift

    def options(self) -> AsyncCallbackOptions:
        return AsyncCallbackOptions(success=self.success, failure=self.failure)

    async def success(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        key = maybe_key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        if key is not None:
            await self.drift.clear(key)
        where = key.describe() if key is not None else "a workspace"
        log.info("phonebot was installed in %s", where)
        name = installation.enterprise_name if installation.is_enterprise_install else installation.team_name
        target = html.escape(name or where)
        if installation.is_enterprise_install:
            body = (
                f"<p>phonebot is installed for the whole <b>{target}</b> organisation. An org admin still adds it "
                "to each workspace that should use it (Slack: <i>Manage apps</i> → phonebot → "
                "<i>Add to workspaces</i>).</p>"
            )
        else:
            body = f"<p>phonebot is installed in <b>{target}</b>.</p>"
        body += "<p>In Slack, open phonebot under <i>Apps</i>: its Home tab shows who you are linked as.</p>"
        return self._html(200, page("Installed", body))

    async def failure(self, args: AsyncFailureArgs) -> BoltResponse:
        reason = args.reason if isinstance(args.reason, str) and _REASON.fullmatch(args.reason) else "unknown"
        (log.error if reason == "storage_error" else log.info)("an install did not complete (%s)", reason)
        sentence = FAILURES.get(reason, "The install did not complete.")
        body = f"<p>{html.escape(sentence)}</p><p>{_START_AGAIN}.</p><p><small>({reason})</small></p>"
        return self._html(args.suggested_status_code, page("Not installed", body))

    def _html(self, status: int, content: str) -> BoltResponse:
        headers: dict[str, str | Sequence[str]] = {
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": self.state_utils.build_set_cookie_for_deletion(),
        }
        return BoltResponse(status=status, headers=headers, body=content)


class PhonebotOAuthFlow(AsyncOAuthFlow):
    """Bolt's flow with phonebot's install page, and a kind 429 when too many installs are under way."""

    async def handle_installation(self, request: AsyncBoltRequest) -> BoltResponse:
        try:
            return await super().handle_installation(request)
        except TooManyInstalls:
            log.warning("more install pages were opened this minute than phonebot issues states for")
            body = page("Busy", f"<p>Too many installs are under way right now.</p><p>{_START_AGAIN} in a minute.</p>")
            headers: dict[str, str | Sequence[str]] = {"Content-Type": "text/html; charset=utf-8"}
            return BoltResponse(status=429, headers=headers, body=body)

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        scopes = ", ".join(f"<code>{html.escape(scope)}</code>" for scope in self.settings.scopes or ())
        link = html.escape(url, quote=True)
        return page(
            "Add to Slack",
            "<p>phonebot puts your company phone system into Slack: presence, click-to-dial, call queues and "
            "alerts.</p>"
            f'<p><a href="{link}"><img alt="Add to Slack" height="40" width="139" '
            'src="https://platform.slack-edge.com/img/add_to_slack.png" '
            'srcset="https://platform.slack-edge.com/img/add_to_slack.png 1x, '
            'https://platform.slack-edge.com/img/add_to_slack@2x.png 2x"></a></p>'
            f"<p>It asks Slack for these bot permissions: {scopes}. It asks for none on behalf of any person.</p>",
        )


def build_oauth_flow(
    settings: Settings,
    *,
    records: StoreInstallationStore,
    states: StoreOAuthStateStore,
    drift: ScopeDriftLog,
    client: AsyncWebClient,
) -> PhonebotOAuthFlow:
    """The OAuth flow for ``settings`` (which must have ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET``)."""
    assert settings.slack_client_id and settings.slack_client_secret
    state_utils = OAuthStateUtils(expiration_seconds=int(states.expiration_seconds))
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=redirect_url(settings),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=InstallPages(state_utils, drift).options(),
        authorization_url=settings.slack_authorize_url or DEFAULT_AUTHORIZE_URL,
        installation_store=records,
        state_store=states,
        state_expiration_seconds=int(states.expiration_seconds),
        logger=log,
    )
    return PhonebotOAuthFlow(client=client, logger=log, settings=oauth_settings)
