"""Moved to :mod:`bot.intents` (the alerts API claims call-back intents too); re-exported for older imports."""

from bot.intents import (
    CLICK_WINDOW_SECONDS,
    DELIVERY_WINDOW_SECONDS,
    Intents,
    click_key,
    delivery_key,
    never_happened,
)

__all__ = [
    "CLICK_WINDOW_SECONDS",
    "DELIVERY_WINDOW_SECONDS",
    "Intents",
    "click_key",
    "delivery_key",
    "never_happened",
]
