"""phonebot's own Listen links for voicemails whose audio only the vendor's API can fetch.

Some vendors (Relatel) serve a voicemail's recording only to API clients with a token, so the
vendor's URL is no link for people in Slack. For adapters declaring ``VOICEMAIL_AUDIO``, the
alert's Listen button points at ``<PHONEBOT_PUBLIC_URL>/voicemails/<vendor>/voicemail-<id>.<mac>``
instead; phonebot checks the token (the same per-resource HMAC as webhook URLs, so rotating
``PHONEBOT_WEBHOOK_SECRET`` revokes every link) and streams the audio it fetches with the service
credential. Nothing is cached or stored. Without ``PHONEBOT_PUBLIC_URL`` there is no such link.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.base import VendorAdapter
from adapters.errors import NotFound, VendorError, WebhookAuthError
from adapters.models import Capability
from bot.webhook_auth import UrlTokens
from handlers.alert_view import AlertState

log = logging.getLogger(__name__)

RESOURCE_PREFIX = "voicemail-"


class ListenLinks:
    """Issues Listen links for voicemail alerts and serves the audio behind them."""

    def __init__(self, public_url: str | None, tokens: UrlTokens, adapters: Mapping[str, VendorAdapter]) -> None:
        self.public_url = public_url.rstrip("/") if public_url else None
        self.tokens = tokens
        self.adapters = adapters

    def url_for(self, state: AlertState) -> str | None:
        """The Listen link for a voicemail alert, when phonebot can play it."""
        adapter = self.adapters.get(state.vendor)
        voicemail_id = state.detail.get("voicemail_id")
        if not self.public_url or state.family != "voicemail" or voicemail_id is None:
            return None
        if adapter is None or not adapter.supports(Capability.VOICEMAIL_AUDIO):
            return None
        try:
            token = self.tokens.token_for(state.vendor, f"{RESOURCE_PREFIX}{voicemail_id}")
        except ValueError:  # an id phonebot cannot put in a URL token
            return None
        return f"{self.public_url}/voicemails/{state.vendor}/{token}"

    async def serve(self, request: Request) -> Response:
        """``GET /voicemails/{vendor}/{token}``: the recording, or 404 for anything not issued by phonebot."""
        vendor = request.path_params["vendor"]
        adapter = self.adapters.get(vendor)
        try:
            resource = self.tokens.resource_for(vendor, request.path_params["token"])
        except WebhookAuthError:
            resource = ""
        if adapter is None or not adapter.supports(Capability.VOICEMAIL_AUDIO):
            resource = ""
        if not resource.startswith(RESOURCE_PREFIX):
            return JSONResponse({"ok": False, "error": "no such voicemail link"}, status_code=404)
        voicemail_id = resource.removeprefix(RESOURCE_PREFIX)
        assert adapter is not None
        try:
            audio = await adapter.voicemail_audio(voicemail_id)
        except NotFound:
            return JSONResponse({"ok": False, "error": "the voicemail is gone"}, status_code=404)
        except VendorError as exc:
            log.warning("voicemail %s from %s not fetched: %s", voicemail_id, vendor, exc.message)
            return JSONResponse({"ok": False, "error": f"{adapter.display_name} did not answer"}, status_code=502)
        extension = "mp3" if audio.media_type == "audio/mpeg" else "audio"
        return Response(
            audio.content,
            media_type=audio.media_type,
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": f'inline; filename="voicemail-{voicemail_id}.{extension}"',
            },
        )
