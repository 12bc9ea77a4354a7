"""One workspace as one explicit context, and the registry that builds and refreshes them.

A :class:`WorkspaceContext` is everything that differs between workspaces: the effective config (the
YAML file with the workspace's Slack setup layered under it), the vendor adapters built from it, and
the key scope every one of its store keys lives under. Listeners get it from one Bolt middleware
(:mod:`handlers.bolt`), command workers per job, the alert pipelines per workspace: nothing reads a
process-global config.

The single-workspace deployment (``SLACK_BOT_TOKEN``) is the same code path with one workspace whose
scope is empty, so it keeps the store keys it always had (an upgrade loses no pending alert). With
"Add to Slack" each installation's scope is its ``data_prefix``, which an uninstall deletes whole.

With "Add to Slack" the file's phone systems, people, admins, routes and thresholds belong to one
workspace only — the one its alerts go to (``SLACK_TEAM_ID``, else the only installation; see
:mod:`bot.alerts.slack_token`): a stranger's workspace that installs a hosted phonebot must never reach
the operator's phone system. Every other workspace starts from the file's general settings (country,
time zone, timings) and has only what its own admins set up.

Contexts are cached per workspace and rebuilt when its settings' version counter changes (asked at
most once per ``refresh_seconds``), so a change saved from Slack — by any replica — takes effect
without a restart. Adapters of a vendor whose section did not change are reused; replaced ones are
closed after ``RETIRE_SECONDS`` so requests still using them can finish.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.base import AdapterConfig, VendorAdapter
from adapters.redaction import SECRETS
from bot.config import PhonebotConfig
from bot.installs.workspace import WorkspaceKey
from bot.store import ScopedStore, Store
from bot.workspaces.effective import EffectiveConfig, effective_config
from bot.workspaces.settings import WorkspaceSettings, WorkspaceSettingsStore

log = logging.getLogger(__name__)

#: Workspaces whose contexts are kept in memory at once (least recently used go first).
MAX_CACHED = 1000
#: A replaced adapter is closed this long after its replacement, once requests using it are done.
RETIRE_SECONDS = 60.0

AdapterFactory = Callable[[str, AdapterConfig], VendorAdapter]
#: The workspace the file's own phone systems and routes belong to, when that is one of several.
FileWorkspace = Callable[[], Awaitable[WorkspaceKey | None]]


def general_part(config: PhonebotConfig) -> PhonebotConfig:
    """``config`` without what belongs to one workspace: phone systems, people, admins, routes, thresholds."""
    alerts = config.alerts.model_copy(update={"routes": [], "queue_thresholds": []})
    return config.model_copy(
        update={"vendors": {}, "users": [], "admins": [], "default_vendor": None, "alerts": alerts}
    )


@dataclass(frozen=True)
class WorkspaceContext:
    """One workspace: its config, adapters and key scope."""

    key: WorkspaceKey | None
    """``None`` only in a single-workspace deployment whose team Slack hasn't named yet."""
    scope: str
    """Every store key of this workspace starts with it (empty: the single-workspace deployment)."""
    effective: EffectiveConfig
    adapters: Mapping[str, VendorAdapter]
    store: Store
    """The shared store seen through :attr:`scope`."""
    version: int = 0
    """The settings version this context was built from (0: never set up from Slack)."""
    has_file: bool = True
    """Whether the file's own part (phone systems, people, ``admins:``, routes) is this workspace's."""

    @property
    def config(self) -> PhonebotConfig:
        return self.effective.config


@dataclass
class _Cached:
    context: WorkspaceContext
    checked_at: float
    #: Whether the file's own part (vendors, people, routes) is in this context.
    has_file: bool = True
    #: The stored vendor sections the context's own adapters were built from (name -> canonical JSON).
    sections: dict[str, str] = field(default_factory=dict)


class WorkspaceContexts:
    """Builds, caches and refreshes :class:`WorkspaceContext` per workspace.

    Args:
        base: the YAML file's config (defaults without one): every workspace's starting point.
        base_adapters: the adapters of the file's vendors, shared by every workspace.
        store: the shared store; each context sees it through its scope.
        settings: where Slack setup is kept (``None``: no ``PHONEBOT_SECRET_KEY``, so the file alone).
        scoped: give each workspace its own key scope (``True`` with "Add to Slack").
        build: makes an adapter for a vendor section saved from Slack.
        file_workspace: with several workspaces, the one the file's own part belongs to (``None``: every
            workspace this deployment serves has it — the single-workspace deployment).
    """

    def __init__(
        self,
        base: PhonebotConfig,
        base_adapters: Mapping[str, VendorAdapter],
        store: Store,
        settings: WorkspaceSettingsStore | None,
        *,
        scoped: bool,
        build: AdapterFactory,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        file_workspace: FileWorkspace | None = None,
    ) -> None:
        self.base = base
        self.general = general_part(base)
        self.file_workspace = file_workspace
        self.base_adapters = dict(base_adapters)
        self.store = store
        self.settings = settings
        self.scoped = scoped
        self.build = build
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._cache: OrderedDict[WorkspaceKey | None, _Cached] = OrderedDict()
        self._locks: dict[WorkspaceKey | None, asyncio.Lock] = {}
        self._retired: list[tuple[float, VendorAdapter]] = []
        self._closing: set[asyncio.Task[None]] = set()

    def scope_of(self, key: WorkspaceKey | None) -> str:
        """The key prefix of ``key``'s data."""
        return key.data_prefix if self.scoped and key is not None else ""

    async def get(self, key: WorkspaceKey | None) -> WorkspaceContext:
        """``key``'s context, rebuilt first if its settings changed since it was built."""
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and now - cached.checked_at < self.refresh_seconds:
            self._cache.move_to_end(key)
            return cached.context
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached is not None and self.clock() - cached.checked_at < self.refresh_seconds:
                return cached.context
            version = await self._version(key)
            has_file = await self._has_file(key)
            if cached is not None and cached.context.version == version and cached.has_file == has_file:
                cached.checked_at = self.clock()
                self._cache.move_to_end(key)
                return cached.context
            fresh = await self._build(key, version, cached, has_file=has_file)
            self._cache[key] = fresh
            self._cache.move_to_end(key)
            self._evict()
            return fresh.context

    def forget(self, key: WorkspaceKey) -> None:
        """Drop ``key``'s context (its workspace was uninstalled): its own adapters are retired."""
        cached = self._cache.pop(key, None)
        self._locks.pop(key, None)
        if cached is not None:
            self._retire([cached.context.adapters[name] for name in cached.sections])

    async def aclose(self) -> None:
        """Close every adapter built from Slack setup (the file's adapters belong to whoever made them)."""
        for cached in self._cache.values():
            self._retire([cached.context.adapters[name] for name in cached.sections])
        self._cache.clear()
        retired, self._retired = self._retired, []
        for _, adapter in retired:
            await _close(adapter)

    async def _version(self, key: WorkspaceKey | None) -> int:
        if self.settings is None or key is None:
            return 0
        return await self.settings.version(key)

    async def _has_file(self, key: WorkspaceKey | None) -> bool:
        if self.file_workspace is None:
            return True
        return key is not None and await self.file_workspace() == key

    async def _build(
        self, key: WorkspaceKey | None, version: int, previous: _Cached | None, *, has_file: bool
    ) -> _Cached:
        stored = await self.settings.load(key) if self.settings is not None and key is not None and version else None
        effective = effective_config(self.base if has_file else self.general, stored or WorkspaceSettings())
        SECRETS.add_from(effective.config)
        file_adapters = self.base_adapters if has_file else {}
        adapters: dict[str, VendorAdapter] = dict(file_adapters)
        sections: dict[str, str] = {}
        reused: set[str] = set()
        for name, cfg in effective.config.vendors.items():
            if name in file_adapters:
                continue
            section = _canonical(stored.vendors[name]) if stored is not None else ""
            old = previous.context.adapters.get(name) if previous is not None else None
            if previous is not None and old is not None and previous.sections.get(name) == section:
                adapters[name], reused = old, reused | {name}
            else:
                adapters[name] = self.build(name, cfg)
            sections[name] = section
        if previous is not None:
            self._retire([previous.context.adapters[n] for n in previous.sections if n not in reused])
        for problem in effective.problems:
            log.warning("%s: %s", key.describe() if key is not None else "this workspace", problem)
        scope = self.scope_of(key)
        context = WorkspaceContext(
            key=key,
            scope=scope,
            effective=effective,
            adapters=adapters,
            store=ScopedStore.of(self.store, scope),
            version=version,
            has_file=has_file,
        )
        return _Cached(context=context, checked_at=self.clock(), sections=sections, has_file=has_file)

    def _evict(self) -> None:
        while len(self._cache) > MAX_CACHED:
            key, cached = self._cache.popitem(last=False)
            self._locks.pop(key, None)
            self._retire([cached.context.adapters[name] for name in cached.sections])

    def _retire(self, adapters: list[VendorAdapter]) -> None:
        now = self.clock()
        self._retired.extend((now, adapter) for adapter in adapters)
        due = [adapter for at, adapter in self._retired if now - at >= RETIRE_SECONDS]
        self._retired = [(at, adapter) for at, adapter in self._retired if now - at < RETIRE_SECONDS]
        for adapter in due:
            task = asyncio.get_running_loop().create_task(_close(adapter))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)


def _canonical(section: Mapping[str, Any]) -> str:
    return json.dumps(section, sort_keys=True, default=str)


async def _close(adapter: VendorAdapter) -> None:
    try:
        await adapter.aclose()
    except Exception:  # closing is best effort: a failed close must not break the request that retired it
        log.warning("closing a replaced %s adapter failed", type(adapter).__name__, exc_info=True)
