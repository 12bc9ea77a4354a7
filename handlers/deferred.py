"""Moved to :mod:`bot.commands.deferred` (the command queue's own types); re-exported for older imports."""

from bot.commands.deferred import (
    COMMAND_NAMES,
    MAX_FIELD,
    MAX_TEXT,
    CommandQueue,
    DeferredCommand,
    QueueFull,
    QueueRefused,
)

__all__ = ["COMMAND_NAMES", "MAX_FIELD", "MAX_TEXT", "CommandQueue", "DeferredCommand", "QueueFull", "QueueRefused"]
