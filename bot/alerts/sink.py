"""Where alert sources (webhook receivers, pollers) hand their events to the pipeline."""

from __future__ import annotations

from typing import Protocol

from adapters.events import AlertEvent


class EventSink(Protocol):
    """Accepts neutral events durably; duplicates (same ``idempotency_key``) are dropped."""

    async def submit(self, event: AlertEvent) -> bool:
        """Queue ``event``; ``False`` when it was a duplicate. Returns only once the event is durable."""
        ...
