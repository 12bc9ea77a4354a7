"""Who may set a workspace up and approve links: its Slack admins and owners, and the config's ``admins:``."""

from __future__ import annotations

from handlers.context import Services


async def is_workspace_admin(services: Services, user_id: str) -> bool:
    """Whether ``user_id`` administers this workspace's phonebot (``users.info`` ``is_admin``/``is_owner``, cached)."""
    if services.permissions.is_admin(user_id):
        return True
    user = await services.users.get(user_id)
    return user is not None and user.is_admin
