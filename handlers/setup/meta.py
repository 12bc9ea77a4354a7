"""What a setup modal or button carries: the workspace it is for, and which thing it edits.

Both are the clicker's to edit, so each is read defensively and checked against the request
(:mod:`handlers.setup.guard`); they never say who is an admin.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Literal

from handlers.payload import json_object

#: Slack refuses a view whose ``private_metadata`` is longer.
PRIVATE_METADATA_MAX = 3000
FormKind = Literal["pick", "vendor", "route", "threshold", "status"]
_FORMS: frozenset[str] = frozenset({"pick", "vendor", "route", "threshold", "status"})
_SCOPE = re.compile(r"[A-Z0-9-]{1,33}:[A-Z0-9-]{1,33}")
_NAME = re.compile(r"[a-z0-9_]{1,32}")
_DIGEST = re.compile(r"[0-9a-f]{1,16}")


@dataclass(frozen=True)
class SetupMeta:
    """A setup modal's ``private_metadata``.

    ``scope`` is the workspace's :attr:`~bot.installs.workspace.WorkspaceKey.scope`; ``vendor`` the
    vendor a vendor form is for; ``index`` and ``digest`` the stored route being edited (the digest
    proves it is still the one the admin opened).
    """

    scope: str
    form: FormKind
    vendor: str | None = None
    index: int | None = None
    digest: str | None = None

    def dump(self) -> str:
        raw = json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))
        assert len(raw) < PRIVATE_METADATA_MAX  # every field is bounded by load's patterns
        return raw

    @classmethod
    def load(cls, raw: object) -> SetupMeta | None:
        """The metadata in ``raw``, or ``None`` when it is not one phonebot wrote."""
        data = json_object(raw)
        if data is None or len(str(raw)) >= PRIVATE_METADATA_MAX:
            return None
        scope, form = data.get("scope"), data.get("form")
        vendor, index, digest = data.get("vendor"), data.get("index"), data.get("digest")
        if not isinstance(scope, str) or not _SCOPE.fullmatch(scope) or form not in _FORMS:
            return None
        if vendor is not None and not (isinstance(vendor, str) and _NAME.fullmatch(vendor)):
            return None
        if index is not None and not (isinstance(index, int) and 0 <= index < 1000):
            return None
        if digest is not None and not (isinstance(digest, str) and _DIGEST.fullmatch(digest)):
            return None
        return cls(scope=scope, form=form, vendor=vendor, index=index, digest=digest)


@dataclass(frozen=True)
class ButtonTarget:
    """A setup button's value: ``<scope>|<name or index>|<digest>`` (the last two may be empty)."""

    scope: str
    item: str = ""
    digest: str = ""

    def dump(self) -> str:
        return f"{self.scope}|{self.item}|{self.digest}"

    @classmethod
    def load(cls, raw: object) -> ButtonTarget | None:
        if not isinstance(raw, str) or len(raw) > 150:
            return None
        parts = raw.split("|")
        if len(parts) != 3 or not _SCOPE.fullmatch(parts[0]):
            return None
        scope, item, digest = parts
        if item and not _NAME.fullmatch(item):
            return None
        if digest and not _DIGEST.fullmatch(digest):
            return None
        return cls(scope, item, digest)

    @property
    def index(self) -> int | None:
        """``item`` as a list index, when it is one."""
        return int(self.item) if self.item.isdigit() and len(self.item) <= 3 else None
