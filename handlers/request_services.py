"""Where a request's own services (its workspace context) are left for listeners, and how they read them.

The workspace middleware of :mod:`handlers.bolt` resolves them once per request; every listener module
reads them here, so none imports another listener module for it.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncBoltContext

from bot.installation import CONTEXT_KEY
from bot.installs.directory import InstalledWorkspace
from bot.installs.workspace import WorkspaceKey
from handlers.context import Services

#: The request-context key under which the workspace middleware leaves the request's services.
SERVICES_KEY = "phonebot_services"


def request_workspace(context: AsyncBoltContext) -> WorkspaceKey | None:
    """The installation the guard admitted this request for, if known."""
    found = context.get(CONTEXT_KEY)
    return found.key if isinstance(found, InstalledWorkspace) else None


def request_services(context: AsyncBoltContext, services: Services) -> Services:
    """The services the workspace middleware resolved for this request.

    ``services`` is only for a request that did not pass the middleware (Bolt runs none for a body it
    answers itself); it is never another workspace's.
    """
    here = context.get(SERVICES_KEY)
    return here if isinstance(here, Services) else services.for_request(context.client, request_workspace(context))
