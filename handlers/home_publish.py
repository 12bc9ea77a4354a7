"""Publishing a person's App Home: now (it was opened) or soon (something it shows changed, debounced)."""

from __future__ import annotations

from handlers.context import Services
from handlers.home import home_view


def home_key(services: Services, user_id: str) -> str:
    """Whose Home: the workspace's data prefix and the Slack user."""
    prefix = services.workspace.data_prefix if services.workspace is not None else ""
    return f"{prefix}|{user_id}"


def refresh_home(services: Services, user_id: str) -> None:
    """Ask for ``user_id``'s Home to be published again soon (at most once per refresh period); never blocks."""
    client = services.slack
    if services.home is None or client is None:
        return

    async def publish() -> None:
        await client.views_publish(user_id=user_id, view=await home_view(services, user_id=user_id))

    services.home.request(home_key(services, user_id), publish)


def home_published(services: Services, user_id: str) -> None:
    """``user_id``'s Home was just published in full: the next refresh waits a period."""
    if services.home is not None:
        services.home.published(home_key(services, user_id))
