"""The README's capability matrix says exactly what the adapters declare (issue 10, point 18).

A row's cell starts with ✅ exactly when that vendor's adapter declares the row's capability, so
the front door can't promise a capability ``phonebot check`` would show as "not offered", or hide
one it has. Rows whose meaning spans capabilities (alerts, Listen) are read by people, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.models import Capability
from adapters.registry import adapter_class

README = Path(__file__).resolve().parents[2] / "README.md"
COLUMNS = ["dstny", "relatel", "tele2", "multisender"]

ROWS = {
    "read presence": Capability.PRESENCE_READ,
    "set presence with an end time": Capability.PRESENCE_WRITE,
    "named activities (lunch, meeting, …)": Capability.PRESENCE_ACTIVITIES,
    "call forwarding (`/presence forward to …`)": Capability.CALL_FORWARD,
    "click-to-dial": Capability.DIAL,
    "queue status": Capability.QUEUE_STATUS,
    "queue login/logout": Capability.QUEUE_LOGIN,
    "contact search": Capability.CONTACT_SEARCH,
    "colleague directory (email matching)": Capability.DIRECTORY,
    '"I\'ll take it" written back': Capability.ALERT_CLAIM,
    "mark voicemail heard": Capability.VOICEMAIL_HEARD,
}


def _matrix() -> dict[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Capability matrix", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| capability") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            rows[cells[0]] = cells[1:]
    return rows


def test_the_matrix_has_a_column_per_vendor_and_every_mapped_row() -> None:
    matrix = _matrix()
    assert all(len(cells) == len(COLUMNS) for cells in matrix.values())
    assert set(ROWS) <= set(matrix), set(ROWS) - set(matrix)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_a_tick_means_the_adapter_declares_the_capability(row: str) -> None:
    capability = ROWS[row]
    cells = _matrix()[row]
    for vendor, cell in zip(COLUMNS, cells, strict=True):
        declared = capability in adapter_class(vendor).capabilities
        assert cell.startswith("✅") == declared, f"{row} / {vendor}: README {cell[:30]!r}, declared {declared}"
