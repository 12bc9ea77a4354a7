"""Lists of vendor rows where one odd row must not cost the whole answer."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

RowT = TypeVar("RowT", bound=BaseModel)


def readable_rows(model: type[RowT], raw: Any, what: str) -> Any:
    """Each item of ``raw`` as ``model``; an item that does not validate is skipped and logged.

    Anything but a list is returned as it is, so the caller's own validation still refuses a
    body of the wrong shape. The log names the row's position and the first problem, never the
    row's content (vendor data may hold caller numbers).
    """
    if not isinstance(raw, list):
        return raw
    rows: list[RowT] = []
    for position, item in enumerate(raw):
        try:
            rows.append(model.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "row"
            log.warning("skipped an unreadable %s (item %d, %s: %s)", what, position, where, error["type"])
    return rows
