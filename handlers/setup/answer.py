"""Answering a view submission inside Slack's 3 seconds, whatever the work behind it takes.

The work runs as a task. If it ends within the budget, the ack carries its answer (field errors,
or the next view). If not, the ack swaps the modal for a "working" view and the answer follows with
``views.update`` by the view's id, so no ``trigger_id`` is needed and none can expire.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.setup.views import message_modal

log = logging.getLogger(__name__)

#: How long after the listener started the ack may wait for the work (Slack gives up at 3 s).
ACK_BUDGET_SECONDS = 1.5


@dataclass(frozen=True)
class Answer:
    """What a submission comes to.

    ``errors`` (block id → problem) are shown under the form's fields when the ack can carry them;
    ``view`` is shown otherwise (after errors: the form again with the problem on top), and
    ``saved`` says the settings changed (the submitter's Home is published again).
    """

    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    saved: bool = False


async def answer_within(
    ack: AsyncAck,
    client: AsyncWebClient,
    *,
    view_id: str,
    work: Awaitable[Answer],
    pending: dict[str, Any],
    started: float,
    budget: float = ACK_BUDGET_SECONDS,
) -> Answer:
    """Ack with ``work``'s answer if it comes within ``budget`` of ``started`` (loop time), else with
    ``pending`` and then ``views.update`` to the answer. Returns the answer."""
    task = asyncio.ensure_future(work)
    remaining = max(0.0, budget - (asyncio.get_running_loop().time() - started))
    done, _ = await asyncio.wait({task}, timeout=remaining)
    if task in done:
        answer = _outcome(task)
        if answer.errors:
            await ack(response_action="errors", errors=answer.errors)
        else:
            await ack(response_action="update", view=answer.view)
        return answer
    await ack(response_action="update", view=pending)
    await asyncio.wait({task})
    answer = _outcome(task)
    try:
        await client.views_update(view_id=view_id, view=answer.view)
    except SlackApiError as exc:  # the admin closed the modal meanwhile: the outcome stands, unseen
        log.info("could not show a setup outcome (%s)", exc.response.get("error") if exc.response else "?")
    return answer


def _outcome(task: asyncio.Future[Answer]) -> Answer:
    try:
        return task.result()
    except Exception:
        reference = secrets.token_hex(4)
        log.exception("a setup submission failed (ref %s)", reference)
        text = f":warning: Something went wrong on phonebot's side. It was logged as `{reference}`."
        return Answer(view=message_modal("Not saved", text))
