"""Reading back what phonebot put in a button value or ``private_metadata``: the clicker's to edit, so untrusted."""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: object) -> dict[str, Any] | None:
    """``raw`` parsed as a JSON object, or ``None`` for anything else (not a string, not JSON, not an object)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
