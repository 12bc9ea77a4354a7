"""A person grants phonebot their own Slack user token: the pages around Slack's OAuth v2 consent.

1. The person's App Home has a **Connect Slack status** button whose URL is ``/slack-status/start?ticket=…``:
   the ticket is single-use, lives 10 minutes and names the Slack user and workspace (:meth:`offer`).
2. ``start`` takes the ticket, makes a fresh ``state`` bound to the same user and workspace, sets it in an
   HttpOnly, SameSite=Lax cookie and sends the browser to Slack's authorize page asking only for
   ``user_scope`` (:data:`~bot.status_sync.tokens.USER_SCOPES`; no bot scope), in the ticket's workspace.
3. Slack sends the browser back to ``/slack-status/callback?code=…&state=…``; the state must match the
   cookie and is taken once. The code is exchanged with ``oauth.v2.access``; the token is kept only when
   Slack says it is the ticket's person's (``authed_user.id``) in the ticket's workspace.

Pages say what happened in plain words; Slack's answers, codes and tokens are never shown or logged.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.browser_handoff import BrowserHandoff
from bot.installs.workspace import NotASlackId, WorkspaceKey
from bot.pages import sentence_page
from bot.status_sync.tokens import USER_SCOPES, StatusTokens
from bot.store import Store

log = logging.getLogger(__name__)

START_PATH = "/slack-status/start"
CALLBACK_PATH = "/slack-status/callback"
COOKIE = "phonebot_slack_status"
FLOW_SECONDS = 600
#: Tickets and states at ``phonebot:slack-status:ticket:…`` / ``…:state:…`` (see :mod:`bot.browser_handoff`).
HANDOFF_KEY = "phonebot:slack-status:"
MAX_PARAM = 512
_AGAIN = "Open phonebot's App Home in Slack and press Connect Slack status again."


class SlackStatusFlow:
    """The start and callback pages, and the button URL that leads to them, for every workspace."""

    def __init__(
        self,
        *,
        store: Store,
        tokens: StatusTokens,
        client: AsyncWebClient,
        client_id: str,
        client_secret: str,
        authorize_url: str,
        public_url: str,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.client = client  # tokenless: oauth.v2.access authenticates with the client id and secret
        self.client_id = client_id
        self.client_secret = client_secret
        self.authorize_url = authorize_url
        self.redirect_uri = public_url.rstrip("/") + CALLBACK_PATH
        self.start_url = public_url.rstrip("/") + START_PATH
        self.handoff = BrowserHandoff(
            store,
            key=HANDOFF_KEY,
            cookie=COOKIE,
            cookie_path=CALLBACK_PATH,
            seconds=FLOW_SECONDS,
            secure=public_url.startswith("https://"),
        )

    async def offer(self, prefix: str, slack_user_id: str) -> str:
        """A single-use URL that starts connecting ``slack_user_id``'s Slack status in the workspace of ``prefix``."""
        ticket = await self.handoff.issue({"prefix": prefix, "user": slack_user_id})
        return f"{self.start_url}?ticket={ticket}"

    def routes(self) -> list[Route]:
        """``GET /slack-status/start`` and ``GET /slack-status/callback``."""
        return [
            Route(START_PATH, self.start, methods=["GET"]),
            Route(CALLBACK_PATH, self.callback, methods=["GET"]),
        ]

    async def start(self, request: Request) -> Response:
        ticket = request.query_params.get("ticket", "")[:MAX_PARAM]
        binding = await self.handoff.take_ticket(ticket)
        if binding is None:
            return _page(400, f"This link has expired or was already used. {_AGAIN}")
        state = self.handoff.new_state()
        query = {
            "client_id": self.client_id,
            "user_scope": ",".join(USER_SCOPES),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        team = _team_of(json.loads(binding)["prefix"])
        if team is not None:  # Slack asks in this workspace, not whichever the browser last used
            query["team"] = team
        return await self.handoff.to_consent(binding, f"{self.authorize_url}?{urlencode(query)}", state)

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        echoed, cookie = query.get("state", "")[:MAX_PARAM], request.cookies.get(COOKIE, "")[:MAX_PARAM]
        if not echoed or echoed != cookie:
            return _page(400, f"This answer from Slack belongs to another attempt, so nothing was connected. {_AGAIN}")
        raw = await self.handoff.take_state(echoed)
        if raw is None:
            return _page(400, f"This attempt has expired or was already finished. {_AGAIN}")
        binding = json.loads(raw)
        if "error" in query:
            return _page(200, "You didn't grant phonebot access, so your Slack status is left as it is.", clear=True)
        code = query.get("code", "")[:MAX_PARAM]
        if not code:
            return _page(400, f"Slack sent no approval back, so nothing was connected. {_AGAIN}")
        try:
            answer = await self.client.oauth_v2_access(
                client_id=self.client_id, client_secret=self.client_secret, code=code, redirect_uri=self.redirect_uri
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "") if exc.response is not None else ""
            log.info("slack status: the code exchange failed (%s)", error[:40] or "no error code")
            return _page(502, f"Slack didn't confirm the approval, so nothing was connected. {_AGAIN}")
        authed = answer.get("authed_user") or {}
        token = authed.get("access_token")
        if authed.get("id") != binding["user"] or not _same_team(answer.get("team"), binding["prefix"]):
            log.warning("slack status: Slack approved for another person or workspace than the ticket's; not kept")
            return _page(400, "Slack approved this for another account than the one that asked, so nothing was kept.")
        if not isinstance(token, str) or authed.get("token_type", "user") != "user":
            return _page(502, f"Slack sent no token for you, so nothing was connected. {_AGAIN}")
        await self.tokens.put(binding["prefix"], binding["user"], token, str(authed.get("scope") or ""))
        log.info("slack status: a person connected their Slack status")
        return _page(
            200,
            "Done: your Slack status now follows your phone presence. Close this tab; "
            "<code>/presence lunch 45m</code> shows in Slack too.",
            clear=True,
        )


def _team_of(prefix: str) -> str | None:
    try:
        return WorkspaceKey.from_data_prefix(prefix).team_id
    except NotASlackId:
        return None


def _same_team(team: object, prefix: str) -> bool:
    """Whether ``oauth.v2.access``'s ``team`` is the ticket's workspace (an org-wide ticket names no team)."""
    expected = _team_of(prefix)
    if expected is None:
        return True
    return isinstance(team, dict) and team.get("id") == expected


def _page(status: int, sentence: str, *, clear: bool = False) -> Response:
    """A minimal page with one sentence (already safe HTML), forgetting this flow's cookie when ``clear``."""
    return sentence_page(status, sentence, clear_cookie=(COOKIE, CALLBACK_PATH) if clear else None)
