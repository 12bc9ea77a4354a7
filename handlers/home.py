"""The App Home tab: a banner when Slack refused a permission, who you are linked as, how to use phonebot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import PhonebotError
from bot.identity import Linked
from bot.installs.scope_drift import MissingScopes, still_missing
from bot.mrkdwn import escape
from handlers.context import Services
from handlers.errors import explain
from handlers.home_phone import phone_blocks
from handlers.linking.home import people_blocks
from handlers.parsing import help_text
from handlers.phonebot import whoami
from handlers.setup.home_blocks import setup_blocks
from handlers.slack_status import slack_status_blocks

MissingScopesLookup = Callable[[], Awaitable[MissingScopes | None]]


async def home_view(
    services: Services, *, user_id: str, missing_scopes: MissingScopesLookup | None = None
) -> dict[str, Any]:
    """The Home tab view for ``user_id`` as a dict for ``views.publish``.

    ``missing_scopes`` is asked after the user's own lookup, so a scope Slack refused just now
    shows in the same view.
    """
    try:
        me = await whoami(services, user_id=user_id)
    except (PhonebotError, SlackApiError) as exc:
        me = explain(exc)
    blocks: list[Any] = [HeaderBlock(text="phonebot")]
    missing = await missing_scopes() if missing_scopes is not None else None
    if missing is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=scope_banner(missing, services.reinstall_hint))))
        blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=me.text)))
    if me.context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=me.context)]))
    blocks.extend(await people_blocks(services, user_id=user_id, me=me))
    linked = await _linked(services, user_id)
    if linked is not None:  # an unlinked person sees how to link (above), no phone
        blocks += await phone_blocks(services, linked)
    blocks += await slack_status_blocks(services, user_id)  # Connect / Disconnect Slack status
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=help_text(None)[:3000])))
    blocks += await setup_blocks(services, user_id)  # workspace admins only
    return View(type="home", blocks=blocks).to_dict()


async def _linked(services: Services, user_id: str) -> Linked | None:
    try:
        return await services.identities.resolve(user_id)
    except (PhonebotError, SlackApiError):  # not linked, or can't tell now
        return None


async def missing_scopes(services: Services, client: AsyncWebClient) -> MissingScopes | None:
    """The Slack scopes this request's installation lacks, if Slack refused one (see ``bot.installs.scope_drift``)."""
    if services.scope_drift is None or services.workspace is None:
        return None
    return await still_missing(services.scope_drift, services.workspace, client)


def scope_banner(missing: MissingScopes, reinstall_hint: str) -> str:
    """The banner's mrkdwn: which permission is missing, what it breaks, and how a workspace admin grants it.

    Shown to everyone in the workspace: the missing scope may be the very one (``users:read``)
    phonebot would need to tell who is an admin.
    """
    needed = ", ".join(f"`{escape(scope)}`" for scope in missing.needed)
    has = ", ".join(f"`{escape(scope)}`" for scope in missing.provided) or "none"
    text = (
        f":warning: *phonebot is missing a Slack permission in this workspace: {needed}*\n"
        f"Slack refused `{escape(missing.method)}` because the app was not granted it (granted: {has}), so what "
        "needs it fails until a workspace admin reinstalls phonebot.\n"
        f"*Workspace admins:* {reinstall_hint or 'reinstall phonebot from its Slack app settings.'}"
    )
    return text[:3000]
