"""The OAuth v2 side of :class:`tests.fakes.slack_api.FakeSlack`: installs, issued tokens, scopes.

As Slack documents it (api.slack.com/authentication/oauth-v2, api.slack.com/methods/oauth.v2.access,
api.slack.com/enterprise/apps/reference for org-wide installs):

* ``GET /oauth/v2/authorize?client_id=…&scope=…&user_scope=…&state=…[&redirect_uri=…]`` is the page
  the installer approves. The fake plays the installer: what they approve is scripted with
  :meth:`FakeSlackOAuth.grant` (default: workspace ``T0001``, installed by ``U0ALICE``); Slack then
  redirects (302) to the redirect URL with ``code`` and the same ``state`` — or with
  ``error=access_denied`` when the installer cancels. An unknown ``client_id`` or a ``redirect_uri``
  that is not one of the app's Redirect URLs gets Slack's error page, no redirect.
* ``oauth.v2.access`` (client id and secret by HTTP Basic auth, as slack_sdk sends them, or as form
  fields) exchanges a code once, within 10 minutes, with the ``redirect_uri`` used to get it, for::

      {"ok": true, "access_token": "xoxb-…", "token_type": "bot", "scope": "commands,chat:write",
       "bot_user_id": "U…", "app_id": "A0001", "team": {"name": …, "id": "T…"},
       "enterprise": {"name": …, "id": "E…"} | null, "is_enterprise_install": false,
       "authed_user": {"id": "U…"}}

  (org-wide: ``"team": null`` and ``"is_enterprise_install": true``; with user scopes, ``authed_user``
  also carries a ``xoxp-`` ``access_token``, its ``scope`` and ``"token_type": "user"``). Errors:
  ``invalid_client_id``, ``bad_client_secret``, ``invalid_code``, ``bad_redirect_uri``.
* Every issued token is known: ``auth.test`` and ``bots.info`` answer for its workspace; a method
  whose scope the token lacks answers ``missing_scope`` with ``needed`` and ``provided``; every answer
  to it carries ``X-OAuth-Scopes``. :meth:`FakeSlackOAuth.restrict` gives any token (``xoxb-test-token``)
  a scope set the same way; :meth:`FakeSlackOAuth.revoke` makes a token answer ``token_revoked``.
"""

from __future__ import annotations

import base64
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-slack-client-secret-0123456789"
CODE_SECONDS = 600.0

#: The bot scope each Web API method needs (api.slack.com/methods/*, "Required scopes").
METHOD_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "bots.info": "users:read",
    # User-token methods (a person's own token, issued with ``user_scope``).
    "users.profile.get": "users.profile:read",
    "users.profile.set": "users.profile:write",
    "dnd.setSnooze": "dnd:write",
    "dnd.endSnooze": "dnd:write",
}
#: Methods that act as the token's person: a bot token gets ``not_allowed_token_type``.
USER_TOKEN_METHODS = frozenset({"users.profile.get", "users.profile.set", "dnd.setSnooze", "dnd.endSnooze"})
#: Methods that take no bearer token.
TOKENLESS_METHODS = frozenset({"api.test", "oauth.v2.access"})


@dataclass(frozen=True)
class Grant:
    """What the next installer approves on Slack's authorize page."""

    team_id: str | None = "T0001"
    team_name: str = "Phonebot Test"
    enterprise_id: str | None = None
    enterprise_name: str = "Phonebot Org"
    org_wide: bool = False
    user_id: str = "U0ALICE"
    approve: bool = True
    #: The bot scopes granted; ``None`` = exactly what the authorize URL asked for.
    scopes: tuple[str, ...] | None = None


@dataclass
class IssuedToken:
    """A token the fake handed out (or was told about), and what it stands for."""

    token: str
    scopes: tuple[str, ...]
    team_id: str | None
    team_name: str | None = None
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    is_enterprise_install: bool = False
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    app_id: str = "A0001"
    installer: str | None = None
    revoked: bool = False

    def auth_test(self) -> dict[str, Any]:
        """``auth.test`` for this token (an org-wide token names the org; Bolt reads only bot_id and url)."""
        answer: dict[str, Any] = {
            "ok": True,
            "url": f"https://{(self.team_id or self.enterprise_id or 'x').lower()}.slack.com/",
            "team": self.team_name,
            "user": "phonebot",
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": self.is_enterprise_install,
        }
        if self.team_id is not None:
            answer["team_id"] = self.team_id
        if self.enterprise_id is not None:
            answer["enterprise_id"] = self.enterprise_id
        return answer


@dataclass
class _Code:
    grant: Grant
    scopes: tuple[str, ...]
    user_scopes: tuple[str, ...]
    redirect_uri: str | None
    created: float
    used: bool = False


@dataclass
class FakeSlackOAuth:
    """One Slack app's OAuth: its credentials, Redirect URLs, pending installs and issued tokens."""

    clock: Callable[[], float]
    app_id: str = "A0001"
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    #: The app's registered Redirect URLs (Slack: OAuth & Permissions); empty = any URL is accepted.
    redirect_urls: list[str] = field(default_factory=list)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    #: Every ``scope`` an authorize URL asked for, in order.
    requested_scopes: list[tuple[str, ...]] = field(default_factory=list)
    _grants: list[Grant] = field(default_factory=list)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        self.redirect_urls.clear()
        self.tokens.clear()
        self.requested_scopes.clear()
        self._grants.clear()
        self._codes.clear()

    # -- scripting ---------------------------------------------------------------------------

    def grant(self, **fields: Any) -> Grant:
        """Script what the next visit to the authorize page approves (:class:`Grant` fields)."""
        grant = Grant(**fields)
        self._grants.append(grant)
        return grant

    def restrict(self, token: str, scopes: tuple[str, ...] | list[str], **fields: Any) -> IssuedToken:
        """Make ``token`` a known token with exactly ``scopes`` (and the :class:`IssuedToken` ``fields``)."""
        known = self.tokens.get(token)
        if known is None:
            known = IssuedToken(token=token, scopes=tuple(scopes), team_id=fields.pop("team_id", "T0001"), **fields)
        else:
            known = replace(known, scopes=tuple(scopes), **fields)
        self.tokens[token] = known
        return known

    def revoke(self, token: str) -> None:
        """``token`` answers ``token_revoked`` from now on."""
        self.tokens[token].revoked = True

    def bot_tokens(self, team_id: str | None = None, *, enterprise_id: str | None = None) -> list[IssuedToken]:
        """Bot tokens issued for a workspace (or org), oldest first."""
        return [
            t
            for t in self.tokens.values()
            if t.token.startswith("xoxb-")
            and (team_id is None or t.team_id == team_id)
            and (enterprise_id is None or t.enterprise_id == enterprise_id)
        ]

    # -- the authorize page -------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """``GET /oauth/v2/authorize``: the installer approves (or cancels) and is sent back."""
        query = request.query_params
        if query.get("client_id") != self.client_id:
            return PlainTextResponse("Slack: invalid_client_id", status_code=400)
        redirect = query.get("redirect_uri") or (self.redirect_urls[0] if self.redirect_urls else None)
        if redirect is None or (self.redirect_urls and redirect not in self.redirect_urls):
            return PlainTextResponse("Slack: bad_redirect_uri", status_code=400)
        state = query.get("state", "")
        scopes = _split(query.get("scope"))
        self.requested_scopes.append(scopes)
        grant = self._grants.pop(0) if self._grants else Grant()
        if not grant.approve:
            return RedirectResponse(_with_query(redirect, {"error": "access_denied", "state": state}), status_code=302)
        code = f"{next(self._counter)}.{secrets.token_hex(16)}"
        self._codes[code] = _Code(
            grant=grant,
            scopes=grant.scopes if grant.scopes is not None else scopes,
            user_scopes=_split(query.get("user_scope")),
            redirect_uri=query.get("redirect_uri"),
            created=self.clock(),
        )
        return RedirectResponse(_with_query(redirect, {"code": code, "state": state}), status_code=302)

    # -- Web API ------------------------------------------------------------------------------

    def tokenless(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """``api.test`` and ``oauth.v2.access``."""
        if method == "api.test":
            return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}
        return self._access(args, headers)

    def _access(self, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        client_id, client_secret = _client_credentials(args, headers)
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        code = self._codes.get(str(args.get("code") or ""))
        if code is None or code.used or self.clock() - code.created > CODE_SECONDS:
            return {"ok": False, "error": "invalid_code"}
        if code.redirect_uri is not None and args.get("redirect_uri") != code.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        code.used = True
        grant = code.grant
        number = next(self._counter)
        owner = grant.enterprise_id if grant.org_wide else grant.team_id
        team_id = None if grant.org_wide else grant.team_id
        issued = IssuedToken(
            token=f"xoxb-{owner}-{number}-{secrets.token_hex(12)}",
            scopes=code.scopes,
            team_id=team_id,
            team_name=None if grant.org_wide else grant.team_name,
            enterprise_id=grant.enterprise_id,
            enterprise_name=grant.enterprise_name if grant.enterprise_id else None,
            is_enterprise_install=grant.org_wide,
            bot_user_id=f"U0BOT{owner}"[:20],
            bot_id=f"B0BOT{owner}"[:20],
            app_id=self.app_id,
            installer=grant.user_id,
        )
        self.tokens[issued.token] = issued
        authed_user: dict[str, Any] = {"id": grant.user_id}
        if code.user_scopes:
            user_token = f"xoxp-{owner}-{number}-{secrets.token_hex(12)}"
            self.tokens[user_token] = replace(issued, token=user_token, scopes=code.user_scopes)
            authed_user.update(access_token=user_token, scope=",".join(code.user_scopes), token_type="user")
        return {
            "ok": True,
            "access_token": issued.token,
            "token_type": "bot",
            "scope": ",".join(issued.scopes),
            "bot_user_id": issued.bot_user_id,
            "app_id": self.app_id,
            "team": None if grant.org_wide else {"name": grant.team_name, "id": grant.team_id},
            "enterprise": {"name": grant.enterprise_name, "id": grant.enterprise_id} if grant.enterprise_id else None,
            "is_enterprise_install": grant.org_wide,
            "authed_user": authed_user,
        }

    def answer_for(self, method: str, args: dict[str, Any], token: str) -> dict[str, Any] | None:
        """The answer a known token gets before any default: revoked, missing a scope, or its own identity."""
        issued = self.tokens.get(token)
        if issued is None:
            return None
        if issued.revoked:
            return {"ok": False, "error": "token_revoked"}
        needed = _needed_scope(method, args)
        if needed is not None and needed not in issued.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(issued.scopes)}
        if method == "auth.test":
            return issued.auth_test()
        if method == "bots.info":
            if args.get("bot") != issued.bot_id:
                return {"ok": False, "error": "bot_not_found"}
            return {"ok": True, "bot": {"id": issued.bot_id, "app_id": issued.app_id, "name": "phonebot"}}
        return None

    def scope_header(self, token: str) -> str | None:
        """``X-OAuth-Scopes`` for answers to ``token`` (known tokens only)."""
        issued = self.tokens.get(token)
        return ",".join(issued.scopes) if issued is not None else None


def _needed_scope(method: str, args: dict[str, Any]) -> str | None:
    if method in ("conversations.history", "conversations.replies"):
        return "groups:history" if str(args.get("channel") or "").startswith("G") else "channels:history"
    return METHOD_SCOPES.get(method)


def _client_credentials(args: dict[str, Any], headers: dict[str, str]) -> tuple[str | None, str | None]:
    authorization = headers.get("authorization", "")
    if authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return args.get("client_id"), args.get("client_secret")


def _split(scopes: str | None) -> tuple[str, ...]:
    return tuple(s for s in (scopes or "").split(",") if s)


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)
