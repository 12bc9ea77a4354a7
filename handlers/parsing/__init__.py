"""Pure parsing of slash-command text into typed commands (no Slack, no vendors).

Every ``parse_*`` function returns a command or a ``UsageError`` value and never raises.
"""

from handlers.parsing.call import (
    CallCommand,
    CallContact,
    CallNumber,
    CallUser,
    format_display,
    parse_call,
    to_vendor_digits,
)
from handlers.parsing.common import UsageError, parse_user_mention
from handlers.parsing.help import HELP, activities_sentence, help_text, help_topic
from handlers.parsing.phonebot import DeadLetters, Help, PhonebotCommand, Replay, WhoAmI, parse_phonebot
from handlers.parsing.presence import (
    NEUTRAL_ACTIVITIES,
    ClearPresence,
    PresenceCommand,
    SetPresence,
    ShowPresence,
    describe_until,
    parse_presence,
)
from handlers.parsing.queue import QueueCommand, QueueHelp, QueueLoginCmd, QueueStatusCmd, parse_queue

__all__ = [
    "HELP",
    "NEUTRAL_ACTIVITIES",
    "CallCommand",
    "CallContact",
    "CallNumber",
    "CallUser",
    "ClearPresence",
    "DeadLetters",
    "Help",
    "PhonebotCommand",
    "PresenceCommand",
    "QueueCommand",
    "QueueHelp",
    "QueueLoginCmd",
    "QueueStatusCmd",
    "Replay",
    "SetPresence",
    "ShowPresence",
    "UsageError",
    "WhoAmI",
    "activities_sentence",
    "describe_until",
    "format_display",
    "help_text",
    "help_topic",
    "parse_call",
    "parse_phonebot",
    "parse_presence",
    "parse_queue",
    "parse_user_mention",
    "to_vendor_digits",
]
