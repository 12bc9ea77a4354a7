"""Who may use a setup click or submission: an admin of the workspace the view or button belongs to."""

from __future__ import annotations

from handlers.admin_check import is_workspace_admin
from handlers.context import Services

NOT_ADMIN = "Only a workspace admin can set phonebot up. Nothing was changed."
OTHER_WORKSPACE = "That setup form belongs to another workspace, so I didn't use it. Nothing was changed."
NO_SECRET_KEY = (
    "Setting phonebot up from Slack needs `PHONEBOT_SECRET_KEY` (it keeps vendor credentials encrypted). "
    "Nothing was changed."
)


async def refusal(services: Services, user_id: str, scope: str | None) -> str | None:
    """Why ``user_id`` may not act on setup for ``scope`` (the view's or button's workspace); ``None``: they may.

    The admin check is made again on every call: a modal opened by an admin who lost the role
    since must not save.
    """
    if services.settings is None or services.workspace is None:
        return NO_SECRET_KEY
    if scope != services.workspace.scope:
        return OTHER_WORKSPACE
    if not await is_workspace_admin(services, user_id):
        return NOT_ADMIN
    return None
