"""A connected person's own presence-sync switches on their App Home (one checkboxes block), and saving them.

The block id and each option's value name the workspace (``<scope>|<switch>``): a tick sent from another
workspace's Home (a shared channel, a forged payload) is refused. A person only ever changes their own
switches: the user is the request's, never the payload's.
"""

from __future__ import annotations

from typing import Any

from bot.status_sync.prefs import SyncPrefs
from bot.status_sync.workspace_status import StatusSettings
from handlers.context import Services

PREFS_ACTION = "slack_status_prefs"
PREFS_BLOCK = "slack_status_prefs:"
#: The switch (a :class:`~bot.status_sync.prefs.SyncPrefs` field) and what the person reads.
SWITCHES: tuple[tuple[str, str, str], ...] = (
    (
        "phone_to_slack",
        "Slack status follows my phone",
        "/presence shows in Slack too; your own status comes back after it.",
    ),
    ("on_a_call", "Show when I'm on a call", "Your Slack status says so during phone calls."),
    ("huddle_to_phone", "Huddles put my phone on DND", "For as long as you are in a Slack huddle."),
    ("slack_status_to_phone", "My Slack status sets my phone", "A status with a mapped emoji sets your presence."),
)
_NAMES = frozenset(name for name, _, _ in SWITCHES)


def switch_options(scope: str, prefs: SyncPrefs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The checkbox options of every switch and those of the ones that are on."""
    options = [
        {
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "description": {"type": "plain_text", "text": about, "emoji": True},
            "value": f"{scope}|{name}",
        }
        for name, label, about in SWITCHES
    ]
    on = [o for o, (name, _, _) in zip(options, SWITCHES, strict=True) if getattr(prefs, name)]
    return options, on


def checkboxes(scope: str, prefs: SyncPrefs, *, action_id: str) -> dict[str, Any]:
    """A checkboxes element with ``prefs``'s switches ticked (Slack refuses an empty ``initial_options``)."""
    options, on = switch_options(scope, prefs)
    element: dict[str, Any] = {"type": "checkboxes", "action_id": action_id, "options": options}
    if on:
        element["initial_options"] = on
    return element


def ticked(scope: str, selected: object) -> SyncPrefs | None:
    """The switches ``selected`` (a checkboxes' ``selected_options``) turn on; ``None`` when one is not this
    workspace's or not a switch."""
    if not isinstance(selected, list) or len(selected) > len(SWITCHES):
        return None
    names: set[str] = set()
    for option in selected:
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, str):
            return None
        their_scope, _, name = value.rpartition("|")
        if their_scope != scope or name not in _NAMES:
            return None
        names.add(name)
    return SyncPrefs(**{name: name in names for name in _NAMES})


async def workspace_status(services: Services) -> StatusSettings | None:
    """The workspace's Slack status mapping and defaults (``None`` without stored settings)."""
    if services.settings is None or services.workspace is None:
        return None
    return (await services.settings.load(services.workspace)).status


async def prefs_block(services: Services, prefix: str, user_id: str, *more: dict[str, Any]) -> dict[str, Any]:
    """The person's switches (and ``more`` elements after them) as one actions block of their Home."""
    assert services.status_sync is not None and services.workspace is not None
    status = await workspace_status(services)
    prefs = await services.status_sync.prefs.get(prefix, user_id, default=status.defaults if status else None)
    element = checkboxes(services.workspace.scope, prefs, action_id=PREFS_ACTION)
    return {"type": "actions", "block_id": PREFS_BLOCK + services.workspace.scope, "elements": [element, *more]}


async def save_prefs(services: Services, *, user_id: str, action: dict[str, Any]) -> bool:
    """Keep the clicking person's own switches as ticked; ``False`` when refused (another workspace's, or they
    are not connected)."""
    sync, workspace = services.status_sync, services.workspace
    if sync is None or workspace is None:
        return False
    prefs = ticked(workspace.scope, action.get("selected_options"))
    if action.get("block_id") != PREFS_BLOCK + workspace.scope:  # untick all: no option names the workspace
        prefs = None
    if prefs is None or not await sync.tokens.connected(workspace.data_prefix, user_id):
        return False
    await sync.prefs.put(workspace.data_prefix, user_id, prefs)
    return True
