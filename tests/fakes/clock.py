"""A settable clock the tests share with simulators and adapters."""

from __future__ import annotations

from datetime import datetime, timedelta


class SettableClock:
    """Returns ``now`` when called; tests move it forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move forward by ``seconds`` plus any ``timedelta`` keywords (``minutes=1``); returns the new time."""
        self.now += timedelta(seconds=seconds, **delta)
        return self.now

    def tick(self, seconds: float = 5) -> datetime:
        """Move forward a few seconds (one poll interval in most tests)."""
        return self.advance(seconds)
