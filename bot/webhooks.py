"""Where vendor webhooks land: ``POST /webhooks/{vendor}/...``.

Receivers register per vendor; each authenticates its own requests (vendor signature or
a secret URL token) before anything is stored. Unknown vendors get 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.logs import bind_here

WebhookReceiver = Callable[[Request, str], Awaitable[Response]]


class WebhookRouter:
    """Dispatches ``/webhooks/{vendor}/{rest}`` to the vendor's receiver."""

    def __init__(self) -> None:
        self.receivers: dict[str, WebhookReceiver] = {}

    def register(self, vendor: str, receiver: WebhookReceiver) -> None:
        self.receivers[vendor] = receiver

    async def dispatch(self, request: Request) -> Response:
        vendor = request.path_params["vendor"]
        receiver = self.receivers.get(vendor)
        if receiver is None:
            return JSONResponse({"ok": False, "error": f"no webhook receiver for {vendor!r}"}, status_code=404)
        bind_here(vendor=vendor)
        return await receiver(request, request.path_params.get("rest", ""))
