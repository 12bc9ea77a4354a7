"""The config one workspace runs with: the YAML file, with what its admins set up in Slack layered under it.

The file wins: a vendor the file names is the file's (its Slack-saved twin is ignored and the App Home
says so); the file's alert routes and queue thresholds come first and stay, Slack's are added after
them. A stored section that no longer validates (an adapter changed its fields) is left out and
reported in :attr:`EffectiveConfig.problems`, never raised: one bad record can't stop the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from adapters.base import AdapterConfig
from adapters.path_overrides import PathOverrideError
from adapters.registry import ADAPTERS, parse_adapter_config
from bot.config import AlertRoute, PhonebotConfig, QueueThreshold
from bot.workspaces.settings import WorkspaceSettings


@dataclass(frozen=True)
class EffectiveConfig:
    """A workspace's config and where each part came from."""

    config: PhonebotConfig
    #: Vendor names set in the YAML file (shown as "from the file", not editable in Slack).
    file_vendors: frozenset[str] = frozenset()
    #: How many of ``config.alerts.routes`` / ``queue_thresholds`` (the first ones) come from the file.
    file_routes: int = 0
    file_thresholds: int = 0
    #: Stored sections left out, each with why (for the App Home; never carries a secret).
    problems: tuple[str, ...] = field(default=())


def effective_config(base: PhonebotConfig, stored: WorkspaceSettings) -> EffectiveConfig:
    """``base`` (the YAML file, or defaults) with ``stored`` layered under it."""
    problems: list[str] = []
    vendors: dict[str, AdapterConfig] = dict(base.vendors)
    for name, section in stored.vendors.items():
        if name in base.vendors:
            continue
        if name not in ADAPTERS:
            problems.append(f"vendor {name!r} is not one phonebot knows")
            continue
        try:
            vendors[name] = parse_adapter_config(name, dict(section))
        except (ValidationError, PathOverrideError) as exc:
            count = exc.error_count() if isinstance(exc, ValidationError) else 1
            problems.append(f"vendor {name!r} is left out: its saved settings no longer validate ({count} problem(s))")
    routes = list(base.alerts.routes)
    for index, raw in enumerate(stored.routes):
        try:
            route = AlertRoute.model_validate(raw)
        except ValidationError:
            problems.append(f"alert route {index + 1} is left out: it no longer validates")
            continue
        if route.vendor is not None and route.vendor not in vendors:
            problems.append(f"alert route {index + 1} names vendor {route.vendor!r}, which is not set up")
        routes.append(route)
    thresholds = list(base.alerts.queue_thresholds)
    for index, raw in enumerate(stored.queue_thresholds):
        try:
            thresholds.append(QueueThreshold.model_validate(raw))
        except ValidationError:
            problems.append(f"queue threshold {index + 1} is left out: it no longer validates")
    alerts = base.alerts.model_copy(update={"routes": routes, "queue_thresholds": thresholds})
    config = base.model_copy(update={"vendors": vendors, "alerts": alerts})
    return EffectiveConfig(
        config=config,
        file_vendors=frozenset(base.vendors),
        file_routes=len(base.alerts.routes),
        file_thresholds=len(base.alerts.queue_thresholds),
        problems=tuple(problems),
    )
