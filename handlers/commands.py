"""Slash commands: what each one runs, what is answered in the ack, and the work done after it.

A command is acked first; its work (vendor calls, the answer through ``response_url``) runs
either right there in the acking process or — with Redis — as a
:class:`~bot.commands.deferred.DeferredCommand` taken off a durable queue by a command worker
(``bot.commands``), so a burst of vendor-backed commands never slows the acks down. Both run
:func:`answer_command`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.errors import VendorAuthError
from bot.commands.deferred import DeferredCommand
from bot.metrics import COMMANDS, HANDLER_SECONDS
from handlers.call import call_command
from handlers.context import Services
from handlers.home_actions import home_after_command
from handlers.parsing import Help, UsageError, help_text, help_topic, parse_call, parse_phonebot, parse_queue
from handlers.phonebot import phonebot_command
from handlers.presence import presence_command
from handlers.queue import queue_command
from handlers.reply import Reply, usage
from handlers.work import BUSY_REPLY, QUEUED_NOTICE, SLOW_NOTICE, Send, run_work

CommandHandler = Callable[..., Awaitable[Reply]]
Precheck = Callable[[str, Services], Reply | None]


def _precheck_call(text: str, services: Services) -> Reply | None:
    parsed = parse_call(text, default_country=services.config.default_country)
    return usage(parsed.message, parsed.example) if isinstance(parsed, UsageError) else None


def _precheck_queue(text: str, services: Services) -> Reply | None:
    parsed = parse_queue(text)
    return usage(parsed.message, parsed.example) if isinstance(parsed, UsageError) else None


def _precheck_phonebot(text: str, services: Services) -> Reply | None:
    parsed = parse_phonebot(text)
    if isinstance(parsed, UsageError):
        return usage(parsed.message, parsed.example)
    if isinstance(parsed, Help) and help_topic(parsed.topic) != "presence":
        return Reply(text=help_text(parsed.topic))
    return None  # presence help names the user's own vendor's activities: the handler looks them up


SLASH_COMMANDS: dict[str, tuple[CommandHandler, Precheck | None]] = {
    "/presence": (presence_command, None),  # needs the user's time zone first, so no precheck
    "/call": (call_command, _precheck_call),
    "/queue": (queue_command, _precheck_queue),
    "/phonebot": (phonebot_command, _precheck_phonebot),
}


async def answer_command(services: Services, job: DeferredCommand, send: Send) -> None:
    """Do an acked command's work and post its answer (``services`` act for the command's workspace)."""
    handler, _ = SLASH_COMMANDS[job.command]
    if job.waited() > services.config.max_queued_seconds:  # the user gave up long ago; nothing ran
        COMMANDS.labels(job.command, "busy").inc()
        await send(Reply(text=BUSY_REPLY))
        return

    async def work() -> Reply:
        try:
            return await handler(services, user_id=job.user_id, text=job.text)
        except VendorAuthError:
            unlinked = await services.identities.refused_link(job.user_id)
            if unlinked is not None:
                raise unlinked from None
            raise

    reply = await run_work(
        work,
        notify_slow=lambda: send(Reply(text=SLOW_NOTICE)),
        notice_after=services.config.slow_notice_seconds,
        limiter=services.work,
        notify_queued=lambda: send(Reply(text=QUEUED_NOTICE)),
    )
    HANDLER_SECONDS.labels(job.command).observe(max(0.0, job.waited()))
    COMMANDS.labels(job.command, "ok").inc()
    await send(reply)
    await home_after_command(services, job.command, user_id=job.user_id, text=job.text)
