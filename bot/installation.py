"""Which Slack workspaces and app this deployment serves, so a request for any other is refused.

Bolt verifies the signature, which proves the request came from Slack for *an* app with this
signing secret; it does not prove it is for a workspace phonebot is installed in, nor for this app.
Every request carries its ``team_id`` (and ``enterprise_id`` on Enterprise Grid) and its
``api_app_id``; the guard looks its installation up (:mod:`bot.installs.directory`: the one of
``SLACK_BOT_TOKEN``, or those installed through "Add to Slack") and refuses the request when there
is none, or when the installation belongs to another app. It runs before Bolt's authorization step
(``before_authorize``), so a refused request never gets a token; the installation it found is left
in the request context for :class:`bot.installs.authorize.PhonebotAuthorize`.

Slack's own revocation events (``app_uninstalled``, ``tokens_revoked``) are let through for a
workspace that is no longer installed: forgetting what is already gone is harmless, and Slack
would otherwise retry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.installs.directory import InstalledWorkspace, Workspaces

#: The request-context key under which the guard leaves the request's installation.
CONTEXT_KEY = "phonebot_installation"
#: Events about the installation itself, handled even once it is gone.
REVOCATION_EVENTS = frozenset({"app_uninstalled", "tokens_revoked"})
#: Bodies Slack sends without a workspace to act for (Bolt answers them before authorization too).
_NO_WORKSPACE_TYPES = frozenset({"url_verification", "ssl_check"})


@dataclass(frozen=True)
class Admission:
    """The guard's answer: the installation to serve (``None`` for a body about none), or why not."""

    installation: InstalledWorkspace | None = None
    refusal: str | None = None


class InstallationGuard:
    """Admits requests for an installed workspace of this app; refuses every other."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces

    async def admit(
        self,
        body: Mapping[str, Any],
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool,
    ) -> Admission:
        """Whether ``body`` (ids as Bolt read them from it) is for an installation this deployment serves."""
        if body.get("type") in _NO_WORKSPACE_TYPES:
            return Admission()
        app = _text(body.get("api_app_id"))
        found = await self.workspaces.find(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        where = _where(enterprise_id, team_id)
        if found is None:
            if _revocation(body):
                return Admission()
            return Admission(refusal=f"phonebot is not installed in {where}")
        if found.app_id and app and app != found.app_id:
            return Admission(refusal=f"app {app[:20]} is not {found.app_id} (the app installed in {where})")
        view_problem = _foreign_view(body, app_id=found.app_id, team_id=team_id)
        if view_problem is not None:
            return Admission(refusal=f"{view_problem} (request for {where})")
        return Admission(installation=found)


def _foreign_view(body: Mapping[str, Any], *, app_id: str | None, team_id: str | None) -> str | None:
    """Why the view a request acts on (a modal, the App Home) is not this installation's, if it isn't.

    Slack names the app and workspace a view belongs to; a view of another app or workspace (a shared
    channel, a copied payload) must not be acted on with this installation's token and data.
    """
    view = body.get("view")
    if not isinstance(view, Mapping):
        return None
    view_app, view_team = _text(view.get("app_id")), _text(view.get("team_id"))
    if app_id and view_app and view_app != app_id:
        return f"the view belongs to app {view_app[:20]}"
    if team_id and view_team and view_team != team_id:
        return f"the view belongs to workspace {view_team[:20]}"
    return None


def _revocation(body: Mapping[str, Any]) -> bool:
    event = body.get("event")
    return body.get("type") == "event_callback" and isinstance(event, dict) and event.get("type") in REVOCATION_EVENTS


def _where(enterprise_id: str | None, team_id: str | None) -> str:
    team = f"workspace {team_id[:20]}" if team_id else "an unnamed workspace"
    return team + (f" (org {enterprise_id[:20]})" if enterprise_id else "")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
