"""With "Add to Slack": which workspace the alerts are posted in, and the bot token of each Slack call.

Alerts are configured once per deployment (the config's routes name channels), so they belong to
one workspace. It is:

1. the installation ``SLACK_TEAM_ID`` names, when set: a workspace's team id (``T…``), or for an
   org-wide (Enterprise Grid) install the org's enterprise id (``E…``), the id it is kept under;
2. else the one installation, when exactly one is kept;
3. else none: no installation yet, or several and no ``SLACK_TEAM_ID``.

With none, a Slack call of the pipeline raises :class:`NoAlertWorkspace`, a *transient* delivery
failure: the worker keeps the entry in the queue and retries it as it would through a Slack
outage; after ``max_attempts`` and ``retry_window_seconds`` it is parked as a transient dead letter
(``/phonebot dead`` says why) and replayed by itself once a post goes through again. Nothing is
dropped, and nothing goes out with another workspace's token. An uninstall or revoked token
(:mod:`bot.installs.forget`) is the same case: the next call finds no installation.

The token is read from the installation store at every call (one read and a decryption), so a
reinstall's new token is used from the next call and an uninstall stops the posts at once. Which
installation it is — without ``SLACK_TEAM_ID`` a scan of the store — is remembered for
``resolve_seconds`` (so a second install is noticed within that), an answer of "none" for
``retry_seconds``. When Slack refuses the token (``invalid_auth``, ``token_revoked``…) the next call
looks again: the installation is usually being replaced or forgotten just then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.alerts.delivery import DeliveryFailed
from bot.installs.directory import InstalledWorkspaces
from bot.installs.workspace import NotASlackId, WorkspaceKey

log = logging.getLogger(__name__)

NOT_INSTALLED = "no workspace installed yet: alerts wait until phonebot is installed (its /slack/install page)"
SEVERAL = "several workspaces installed ({names}): set SLACK_TEAM_ID to the one alerts go to"
NOT_THERE = "SLACK_TEAM_ID is {team}, but phonebot is not installed there: alerts wait until it is (/slack/install)"
NOT_AN_ID = "SLACK_TEAM_ID {team!r} is not a Slack team id (T…) or, for an org-wide install, enterprise id (E…)"
GONE = "phonebot is not installed in {workspace} (any more): its alerts wait until it is installed again"
#: At most this many installation keys are read to count them (more than one is all the rule needs).
_SCAN_LIMIT = 100


class NoAlertWorkspace(DeliveryFailed):
    """There is no installation to post alerts with (``detail`` says why); the entries wait."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"no Slack workspace to post alerts in: {detail}", permanent=False)
        self.detail = detail


class AlertWorkspace:
    """The bot token the alert pipeline posts with, from the installation alerts belong to.

    Args:
        workspaces: The "Add to Slack" installations.
        team_id: ``SLACK_TEAM_ID``: the workspace (or org) alerts go to; ``None`` = the only installation.
        key: the one installation these alerts belong to (a workspace's own pipeline): no other is ever chosen.
        resolve_seconds: How long the chosen installation is kept before it is chosen again.
        retry_seconds: How long "no installation" is kept before the store is looked at again.
    """

    def __init__(
        self,
        workspaces: InstalledWorkspaces,
        *,
        team_id: str | None,
        key: WorkspaceKey | None = None,
        resolve_seconds: float = 30.0,
        retry_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workspaces = workspaces
        self.team_id = team_id or None
        self.key = key
        self.resolve_seconds = resolve_seconds
        self.retry_seconds = retry_seconds
        self.clock = clock
        self._key: WorkspaceKey | None = None
        self._problem: str | None = None
        self._until = 0.0
        self._choosing = asyncio.Lock()  # subjects posting in parallel share one look at the store

    async def token(self) -> str:
        """The bot token to make the next Slack call with.

        Raises:
            NoAlertWorkspace: no installation to post with (none, several and no ``SLACK_TEAM_ID``,
                or not the one ``SLACK_TEAM_ID`` names).
        """
        key = await self._resolve()
        found = await self.workspaces.get(key)
        if found is None:  # uninstalled (or unreadable) since it was chosen: choose again now
            self.refused()
            key = await self._resolve()
            found = await self.workspaces.get(key)
            if found is None:
                self._hold(f"the installation of {key.describe()} has no usable bot token; install phonebot again")
                raise NoAlertWorkspace(self._problem or "")
        return found.bot_token

    async def problem(self) -> str | None:
        """Why no alert can be posted now (for ``/readyz`` and ``phonebot check``), or ``None``."""
        try:
            await self.token()
        except NoAlertWorkspace as exc:
            return exc.detail
        return None

    async def current_key(self) -> WorkspaceKey | None:
        """The installation alerts are posted with, when there is one (e.g. to record its missing scopes)."""
        try:
            return await self._resolve()
        except NoAlertWorkspace:
            return None

    def refused(self) -> None:
        """Slack refused the token (or it is gone): choose the installation again at the next call."""
        self._key, self._problem, self._until = None, None, 0.0

    async def _resolve(self) -> WorkspaceKey:
        async with self._choosing:
            if self.clock() < self._until:
                if self._key is not None:
                    return self._key
                raise NoAlertWorkspace(self._problem or "")
            try:
                key = await self._choose()
            except NoAlertWorkspace as exc:
                if exc.detail != self._problem:
                    log.warning("alerts are not posted: %s", exc.detail)
                self._hold(exc.detail)
                raise
            if key != self._key:
                log.info("alerts are posted in %s, with its installation's bot token", key.describe())
            self._key, self._problem, self._until = key, None, self.clock() + self.resolve_seconds
            return key

    def _hold(self, problem: str) -> None:
        self._key, self._problem, self._until = None, problem, self.clock() + self.retry_seconds

    async def _choose(self) -> WorkspaceKey:
        if self.key is not None:
            if await self.workspaces.get(self.key) is None:
                raise NoAlertWorkspace(GONE.format(workspace=self.key.describe()))
            return self.key
        if self.team_id is not None:
            return await self._named(self.team_id)
        installed = await self.workspaces.installed(limit=_SCAN_LIMIT)
        if not installed:
            raise NoAlertWorkspace(NOT_INSTALLED)
        if len(installed) > 1:
            names = ", ".join(key.team_id or key.enterprise_id or "?" for key in installed[:5])
            more = f" and {len(installed) - 5} more" if len(installed) > 5 else ""
            raise NoAlertWorkspace(SEVERAL.format(names=names + more))
        return installed[0]

    async def _named(self, team: str) -> WorkspaceKey:
        """The installation kept for ``team``: a workspace alone, an org-wide install, or a workspace of an org."""
        try:
            direct = [WorkspaceKey(None, team), WorkspaceKey(team, None)]
        except NotASlackId:
            raise NoAlertWorkspace(NOT_AN_ID.format(team=team[:40])) from None
        for key in direct:
            if await self.workspaces.get(key) is not None:
                return key
        # A workspace of an Enterprise Grid org is kept under its org's id too, which the setting does not name.
        for key in await self.workspaces.installed(limit=10_000):
            if key.team_id == team:
                return key
        raise NoAlertWorkspace(NOT_THERE.format(team=team))
