"""People link their own Relatel account from Slack: the pages around Relatel's OAuth consent.

1. An unlinked user gets a **Link your Relatel account** button whose URL is
   ``/link/relatel/start?ticket=…``: the ticket is single-use, lives 10 minutes and names the Slack
   user and workspace (:meth:`RelatelLinkFlow.offer`).
2. ``start`` takes the ticket, makes a fresh ``state`` bound to the same user and workspace, sets it
   in an HttpOnly, SameSite=Lax cookie on this browser and sends the browser to Relatel's
   ``/authorize`` (seed 000 ~12) with that ``state``.
3. Relatel sends the browser back to ``/link/relatel/callback?code=…`` (000 ~14). 000 documents
   no ``state``; when Relatel echoes it, it must match the cookie; when it doesn't, the cookie alone
   names the flow. The state is taken once, the code exchanged (000 ~16), the token's owner read
   (``GET /employee``) and the link stored with the token sealed (:mod:`bot.linking.links`).

One flow serves every workspace: the ticket and state name the workspace, and each step asks that
workspace's context for its Relatel adapter (:data:`AdapterLookup`) — the file's, or one its admins set
up in Slack — whose OAuth application (``oauth_client_id``/``oauth_client_secret``) is the one used.

The pages say what happened in plain words; vendor answers, codes and tokens are never shown or
logged.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.base import VendorAdapter
from adapters.errors import VendorError
from adapters.relatel.adapter import RelatelAdapter
from adapters.relatel.oauth import RelatelOAuthClient
from bot.browser_handoff import BrowserHandoff
from bot.linking.links import AccountLinks
from bot.pages import sentence_page
from bot.store import Store

log = logging.getLogger(__name__)

START_PATH = "/link/relatel/start"
CALLBACK_PATH = "/link/relatel/callback"
COOKIE = "phonebot_relatel_link"
FLOW_SECONDS = 600
#: Tickets and states at ``phonebot:link:relatel:ticket:…`` / ``…:state:…`` (see :mod:`bot.browser_handoff`).
HANDOFF_KEY = "phonebot:link:relatel:"
MAX_PARAM = 512


#: The Relatel adapter named ``vendor`` in the workspace of a data prefix, as that workspace runs now.
AdapterLookup = Callable[[str, str], Awaitable[VendorAdapter | None]]


def oauth_client(adapter: VendorAdapter | None, redirect_uri: str) -> tuple[RelatelAdapter, RelatelOAuthClient] | None:
    """``adapter`` and a client for its OAuth application, when it is a Relatel adapter that has one."""
    if not isinstance(adapter, RelatelAdapter):
        return None
    cfg = adapter.settings
    if cfg.oauth_client_id is None or cfg.oauth_client_secret is None:
        return None
    client = RelatelOAuthClient(
        base_url=str(cfg.base_url),
        client_id=cfg.oauth_client_id,
        client_secret=cfg.oauth_client_secret.get_secret_value(),
        redirect_uri=redirect_uri,
    )
    return adapter, client


class RelatelLinkFlow:
    """The start and callback pages, and the button URL that leads to them, for every workspace."""

    def __init__(self, *, store: Store, links: AccountLinks, adapters: AdapterLookup, public_url: str) -> None:
        self.store = store
        self.links = links
        self.adapters = adapters
        self.public_url = public_url.rstrip("/")
        self.redirect_uri = self.public_url + CALLBACK_PATH
        self.handoff = BrowserHandoff(
            store,
            key=HANDOFF_KEY,
            cookie=COOKIE,
            cookie_path=CALLBACK_PATH,
            seconds=FLOW_SECONDS,
            secure=self.public_url.startswith("https://"),
        )

    async def offer(self, prefix: str, slack_user_id: str, adapter: VendorAdapter) -> str | None:
        """A single-use URL that starts linking ``slack_user_id`` to ``adapter``'s Relatel in the workspace of
        ``prefix``; ``None`` when that Relatel has no OAuth application to link with."""
        if oauth_client(adapter, self.redirect_uri) is None:
            return None
        ticket = await self.handoff.issue({"prefix": prefix, "user": slack_user_id, "vendor": adapter.name})
        return f"{self.public_url}{START_PATH}?ticket={ticket}"

    async def _oauth(self, binding: dict[str, str]) -> tuple[RelatelAdapter, RelatelOAuthClient] | None:
        adapter = await self.adapters(binding["prefix"], binding.get("vendor", "relatel"))
        return oauth_client(adapter, self.redirect_uri)

    def routes(self) -> list[Route]:
        """``GET /link/relatel/start`` and ``GET /link/relatel/callback``."""
        return [
            Route(START_PATH, self.start, methods=["GET"]),
            Route(CALLBACK_PATH, self.callback, methods=["GET"]),
        ]

    async def start(self, request: Request) -> Response:
        ticket = request.query_params.get("ticket", "")[:MAX_PARAM]
        binding = await self.handoff.take_ticket(ticket)
        if binding is None:
            return _page(
                400, "This link has expired or was already used. Run the command in Slack again for a new one."
            )
        oauth = await self._oauth(json.loads(binding))
        if oauth is None:
            return _page(400, "Linking with Relatel is no longer set up in this workspace; ask a phonebot admin.")
        state = self.handoff.new_state()
        return await self.handoff.to_consent(binding, oauth[1].authorize_url(state), state)

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        echoed, cookie = query.get("state", "")[:MAX_PARAM], request.cookies.get(COOKIE, "")[:MAX_PARAM]
        if echoed and cookie and echoed != cookie:
            return _page(400, "This answer from Relatel belongs to another linking attempt; nothing was linked.")
        state = echoed or cookie
        raw = await self.handoff.take_state(state)
        if raw is None:
            return _page(
                400, "This linking attempt has expired or was already finished. Run the command in Slack again."
            )
        binding = json.loads(raw)
        if "error" in query:
            return _page(200, "You didn't grant phonebot access, so nothing was linked.", clear=True)
        code = query.get("code", "")[:MAX_PARAM]
        if not code:
            return _page(400, "Relatel sent no authorization code back, so nothing was linked. Please try again.")
        oauth = await self._oauth(binding)
        if oauth is None:
            return _page(400, "Linking with Relatel is no longer set up in this workspace; ask a phonebot admin.")
        adapter, client = oauth
        try:
            token = await client.exchange(code)
            account = await adapter.account_of(token)
        except VendorError as exc:
            log.warning("relatel link: the token exchange or the account read failed (%s)", type(exc).__name__)
            return _page(502, "Relatel didn't accept the link just now, so nothing was linked. Please try again.")
        await self.links.put(
            binding["prefix"],
            binding["user"],
            vendor=adapter.name,
            user_id=account.user_id,
            how="oauth",
            name=account.name,
            token=token,
        )
        log.info("relatel link: a Slack user linked their own Relatel account")
        who = html.escape(account.name or account.user_id)
        return _page(
            200, f"Done: you are linked as {who} in Relatel. Close this tab; /call now rings your phone.", clear=True
        )


def _page(status: int, sentence: str, *, clear: bool = False) -> Response:
    """A minimal page with one sentence (already safe HTML), forgetting this flow's cookie when ``clear``."""
    return sentence_page(status, sentence, clear_cookie=(COOKIE, CALLBACK_PATH) if clear else None)
