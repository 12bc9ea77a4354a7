"""The App Home's **Set up** section, shown only to workspace admins.

It lists the phone systems, alert routes and queue thresholds, each marked as coming from the
config file (read-only here) or set up in Slack (Edit / Remove), with buttons to add more. Lists
are capped so the whole Home stays within Slack's 100 blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from adapters.registry import ADAPTERS
from bot.config import AlertRoute, PhonebotConfig, QueueThreshold
from bot.mrkdwn import escape
from bot.workspaces.settings import WorkspaceSettings
from handlers.admin_check import is_workspace_admin
from handlers.context import Services
from handlers.setup.changes import digest
from handlers.setup.meta import ButtonTarget
from handlers.setup.route_form import describe_route
from handlers.setup.threshold_form import describe_threshold
from handlers.setup.vendor_fields import form_fields, secret_hint
from handlers.setup.vendor_form import vendor_name
from handlers.setup.views import context, plain, section

ADD_VENDOR = "setup_vendor_add"
EDIT_VENDOR = "setup_vendor_edit"
REMOVE_VENDOR = "setup_vendor_remove"
ADD_ROUTE = "setup_route_add"
EDIT_ROUTE = "setup_route_edit"
REMOVE_ROUTE = "setup_route_remove"
ADD_THRESHOLD = "setup_threshold_add"
REMOVE_THRESHOLD = "setup_threshold_remove"
EDIT_STATUS = "setup_slack_status"
#: Entries of one list shown on the Home (two blocks each at most); the rest are counted.
SHOWN_PER_LIST = 10
NO_SECRET_KEY_NOTE = (
    "Setting phonebot up from Slack needs `PHONEBOT_SECRET_KEY` (vendor credentials are kept encrypted with it). "
    "Until it is set, this is what the config file says:"
)


def file_vendors(services: Services) -> frozenset[str]:
    """The vendors the config file sets (not editable in Slack)."""
    if services.effective is not None:
        return services.effective.file_vendors
    return frozenset(services.config.vendors)


def file_config(services: Services) -> tuple[list[AlertRoute], list[QueueThreshold]]:
    """The config file's own routes and thresholds (the effective config lists them first)."""
    alerts = services.config.alerts
    if services.effective is None:
        return list(alerts.routes), list(alerts.queue_thresholds)
    return list(alerts.routes[: services.effective.file_routes]), list(
        alerts.queue_thresholds[: services.effective.file_thresholds]
    )


def configured_vendors(services: Services, stored: WorkspaceSettings) -> list[str]:
    """Every vendor a route or threshold may name: the file's and those set up in Slack."""
    return sorted(set(file_vendors(services)) | set(stored.vendors))


async def setup_blocks(services: Services, user_id: str) -> list[dict[str, Any]]:
    """The Set up section for ``user_id``'s Home: nothing unless they administer this workspace."""
    if not await is_workspace_admin(services, user_id):
        return []
    blocks: list[dict[str, Any]] = [{"type": "divider"}, {"type": "header", "text": plain("Set up")}]
    if services.settings is None or services.workspace is None:
        blocks.append(section(NO_SECRET_KEY_NOTE))
        blocks.append(section(_file_summary(services.config, services)))
        return blocks
    stored = await services.settings.load(services.workspace)
    scope = services.workspace.scope
    blocks += _vendor_blocks(services, stored, scope)
    if services.status_sync is not None:  # beside "Add a phone system": the fullest Home has no block to spare
        blocks[-1]["elements"].append(_button("Slack status emoji", EDIT_STATUS, ButtonTarget(scope).dump()))
    blocks += _route_blocks(services, stored, scope)
    blocks += _threshold_blocks(services, stored, scope)
    problems = services.effective.problems if services.effective is not None else ()
    if problems:
        blocks.append(context(":warning: " + escape("; ".join(problems[:5]))))
    return blocks


def _file_summary(config: PhonebotConfig, services: Services) -> str:
    vendors = ", ".join(escape(vendor_name(v)) for v in sorted(file_vendors(services))) or "none"
    routes, thresholds = file_config(services)
    return f"*Phone systems:* {vendors}\n*Alert routes:* {len(routes)}\n*Queue thresholds:* {len(thresholds)}"


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def _confirm(title: str, text: str) -> dict[str, Any]:
    return {
        "title": plain(title),
        "text": {"type": "mrkdwn", "text": text[:300]},
        "confirm": plain("Remove"),
        "deny": plain("Keep"),
        "style": "danger",
    }


def _removable(text: str, action_id: str, value: str, what: str) -> dict[str, Any]:
    button = _button("Remove", action_id, value, style="danger")
    button["confirm"] = _confirm("Remove?", f"Remove {what}? phonebot stops using it at once.")
    return button


def _vendor_blocks(services: Services, stored: WorkspaceSettings, scope: str) -> list[dict[str, Any]]:
    blocks = [section("*Phone systems*")]
    from_file = file_vendors(services)
    for name in sorted(from_file):
        blocks.append(section(f"*{escape(vendor_name(name))}* · from the config file (change it there)"))
    for name in sorted(stored.vendors):
        if name in from_file:
            blocks.append(context(f"{escape(vendor_name(name))} set up in Slack is ignored: the config file sets it."))
            continue
        blocks.append(
            section(f"*{escape(vendor_name(name))}* · set up in Slack{_secret_note(name, stored.vendors[name])}")
        )
        target = ButtonTarget(scope, name).dump()
        label = escape(vendor_name(name))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"setup_vendor:{name}",
                "elements": [
                    _button("Edit", EDIT_VENDOR, target),
                    _removable("Remove", REMOVE_VENDOR, target, label),
                ],
            }
        )
    if not from_file and not stored.vendors:
        blocks.append(context("No phone system yet."))
    blocks.append(
        {
            "type": "actions",
            "block_id": "setup_vendor_add",
            "elements": [_button("Add a phone system", ADD_VENDOR, ButtonTarget(scope).dump(), style="primary")],
        }
    )
    return blocks


def _secret_note(vendor: str, section_values: dict[str, Any]) -> str:
    if vendor not in ADAPTERS:  # a record from a newer phonebot: listed, never opened as a form
        return ""
    for field in form_fields(vendor):
        if field.kind == "secret" and field.required and section_values.get(field.name):
            return f" · {field.label} {secret_hint(section_values[field.name])}"
    return ""


def _from_the_file(entries: Sequence[BaseModel], describe: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:
    """The file's entries of one list, read-only (at most ``SHOWN_PER_LIST`` named)."""
    if not entries:
        return []
    lines = [describe(entry.model_dump(mode="json", exclude_none=True)) for entry in entries[:SHOWN_PER_LIST]]
    more = f"\n…and {len(entries) - SHOWN_PER_LIST} more" if len(entries) > SHOWN_PER_LIST else ""
    return [section("From the config file (change them there):\n" + "\n".join(lines) + more)]


def _route_blocks(services: Services, stored: WorkspaceSettings, scope: str) -> list[dict[str, Any]]:
    blocks = [section("*Alert routes*")]
    routes, _ = file_config(services)
    blocks += _from_the_file(routes, describe_route)
    for index, route in enumerate(stored.routes[:SHOWN_PER_LIST]):
        target = ButtonTarget(scope, str(index), digest(route)).dump()
        blocks.append(section(describe_route(route)))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"setup_route:{index}",
                "elements": [
                    _button("Edit", EDIT_ROUTE, target),
                    _removable("Remove", REMOVE_ROUTE, target, "this alert route"),
                ],
            }
        )
    if len(stored.routes) > SHOWN_PER_LIST:
        blocks.append(context(f"…and {len(stored.routes) - SHOWN_PER_LIST} more set up in Slack."))
    if not routes and not stored.routes:
        blocks.append(context("No alert routes yet: alerts go nowhere."))
    add = _button("Add an alert route", ADD_ROUTE, ButtonTarget(scope).dump())
    blocks.append({"type": "actions", "block_id": "setup_route_add", "elements": [add]})
    return blocks


def _threshold_blocks(services: Services, stored: WorkspaceSettings, scope: str) -> list[dict[str, Any]]:
    blocks = [section("*Queue thresholds*")]
    _, thresholds = file_config(services)
    blocks += _from_the_file(thresholds, describe_threshold)
    for index, threshold in enumerate(stored.queue_thresholds[:SHOWN_PER_LIST]):
        target = ButtonTarget(scope, str(index), digest(threshold)).dump()
        block = section(describe_threshold(threshold))
        block["accessory"] = _removable("Remove", REMOVE_THRESHOLD, target, "this queue threshold")
        blocks.append(block)
    if len(stored.queue_thresholds) > SHOWN_PER_LIST:
        blocks.append(context(f"…and {len(stored.queue_thresholds) - SHOWN_PER_LIST} more set up in Slack."))
    add = _button("Add a queue threshold", ADD_THRESHOLD, ButtonTarget(scope).dump())
    blocks.append({"type": "actions", "block_id": "setup_threshold_add", "elements": [add]})
    return blocks
