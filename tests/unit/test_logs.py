"""``bot.logs``: bound context fields, the JSON line format, and redaction inside JSON lines."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from adapters.redaction import install_log_redaction
from bot.logs import MAX_FIELD, ContextFilter, JsonFormatter, bind, bind_here, bound


def _record(message: str, *, exc: BaseException | None = None) -> logging.LogRecord:
    record = logging.getLogger("phonebot.test").makeRecord(
        "phonebot.test", logging.WARNING, __file__, 1, message, None, (type(exc), exc, None) if exc else None
    )
    ContextFilter().filter(record)
    return record


def test_a_line_is_one_json_object_with_the_bound_fields() -> None:
    with bind(team="T0001", vendor="tele2"), bind(subject="lost:+370"):
        line = json.loads(JsonFormatter().format(_record("posted")))
    assert line["message"] == "posted" and line["level"] == "WARNING" and line["logger"] == "phonebot.test"
    assert (line["team"], line["vendor"], line["subject"]) == ("T0001", "tele2", "lost:+370")
    assert "\n" not in JsonFormatter().format(_record("two\nlines"))


def test_fields_end_with_their_block_and_unknown_names_are_refused() -> None:
    with bind(team="T0001"):
        assert bound() == {"team": "T0001"}
    assert bound() == {}
    with pytest.raises(ValueError):
        bind_here(password="x")  # type: ignore[arg-type]
    with bind(key="k" * 1000):
        assert len(bound()["key"]) == MAX_FIELD


async def test_bind_here_stays_in_its_own_task() -> None:
    async def one(team: str) -> dict[str, str]:
        bind_here(team=team)
        await asyncio.sleep(0)
        return bound()

    assert await asyncio.gather(one("T1"), one("T2")) == [{"team": "T1"}, {"team": "T2"}]
    assert bound() == {}


def test_secrets_are_redacted_in_json_lines_too() -> None:
    install_log_redaction()
    try:
        raise RuntimeError("token xoxb-1234567890-abcdefghij leaked")
    except RuntimeError as exc:
        line = JsonFormatter().format(_record("Authorization: Bearer xoxb-1234567890-abcdefghij", exc=exc))
    assert "xoxb-1234567890-abcdefghij" not in line
    assert json.loads(line)["exc"]
