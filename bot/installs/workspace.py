"""The key of one installation, and the store keys scoped by it.

An app is installed either in one workspace (``team_id``, with the ``enterprise_id`` of its
Enterprise Grid org when it has one) or, on Enterprise Grid, once for the whole org
(``is_enterprise_install``): then every workspace of the org shares that one installation, and
Bolt's documented convention is to key it by the org alone (``team_id`` left out). A request from
workspace ``T1`` of org ``E1`` under an org-wide install therefore resolves to ``E1:-``.

Every key phonebot keeps for an installation names its scope explicitly — ``{enterprise or -}:
{team or -}`` — so no two installations can meet in one key, and :mod:`bot.installs.forget`
knows exactly what to delete. Ids are Slack's (upper-case letters and digits); anything else is
refused before it can shape a key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")
NONE = "-"


class NotASlackId(ValueError):
    """An enterprise or team id that is not shaped like Slack's."""


@dataclass(frozen=True)
class WorkspaceKey:
    """One installation: a workspace (``team_id``), or a whole org (``team_id`` is ``None``)."""

    enterprise_id: str | None
    team_id: str | None

    def __post_init__(self) -> None:
        for value in (self.enterprise_id, self.team_id):
            if value is not None and not _SLACK_ID.fullmatch(value):
                raise NotASlackId(f"{value[:40]!r} is not a Slack enterprise or team id")
        if self.enterprise_id is None and self.team_id is None:
            raise NotASlackId("an installation needs a team id or an enterprise id")

    @classmethod
    def of(
        cls, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> WorkspaceKey:
        """The installation a request or an install belongs to (org-wide installs are keyed by org)."""
        enterprise = enterprise_id or None
        if is_enterprise_install and enterprise is not None:
            return cls(enterprise, None)
        return cls(enterprise, team_id or None)

    @classmethod
    def from_data_prefix(cls, prefix: str) -> WorkspaceKey:
        """The installation whose :attr:`data_prefix` is ``prefix``.

        Raises:
            NotASlackId: ``prefix`` is not shaped like one.
        """
        parts = prefix.removeprefix("ws:").removesuffix(":").split(":") if prefix.startswith("ws:") else []
        if len(parts) != 2:
            raise NotASlackId(f"{prefix[:60]!r} is not a workspace data prefix")
        enterprise, team = (None if part == NONE else part for part in parts)
        return cls(enterprise, team)

    @property
    def is_org(self) -> bool:
        """An org-wide (Enterprise Grid) installation."""
        return self.team_id is None

    @property
    def scope(self) -> str:
        """``E123:T456``, ``-:T456`` or ``E123:-``."""
        return f"{self.enterprise_id or NONE}:{self.team_id or NONE}"

    @property
    def install_key(self) -> str:
        """Where the installation (encrypted tokens) is kept."""
        return f"slack:install:{self.scope}"

    @property
    def scope_drift_key(self) -> str:
        """Where a ``missing_scope`` answer for this installation is remembered."""
        return f"slack:scope-drift:{self.scope}"

    @property
    def data_prefix(self) -> str:
        """The prefix of every other key kept for this installation (deleted with it)."""
        return f"ws:{self.scope}:"

    def describe(self) -> str:
        """For log lines and pages: ``workspace T456``, ``org E123``, ``workspace T456 (org E123)``."""
        if self.team_id is None:
            return f"org {self.enterprise_id}"
        return f"workspace {self.team_id}" + (f" (org {self.enterprise_id})" if self.enterprise_id else "")
