"""phonebot's own Listen links for voicemails whose audio only the vendor's API can fetch.

Some vendors (Relatel) serve a voicemail's recording only to API clients with a token, so the
vendor's URL is no link for people in Slack. For adapters declaring ``VOICEMAIL_AUDIO``, the
alert's Listen button points at
``<PHONEBOT_PUBLIC_URL>/voicemails/<vendor>/voicemail-<id>:<issued>.<mac>`` instead:

* the token is the same per-resource HMAC as webhook URLs, over the voicemail id *and* the time
  it was issued, so a link expires ``alerts.listen_link_days`` after it was made (default 7);
* links are revocable without rotating the webhook secret: ``phonebot alerts revoke-listen``
  revokes every link issued so far (``--voicemail vendor:id`` just one), kept in the store so
  every replica refuses them;
* the audio is served only when the vendor calls it audio, as that type, with
  ``X-Content-Type-Options: nosniff`` and a sandboxing CSP, so a vendor's ``text/html`` can
  never render on phonebot's origin;
* a recording is fetched once and kept in memory briefly (bounded in count and bytes), and
  concurrent requests for it share one vendor call, so a leaked link can't drain the vendor's
  rate limit.

Links are never logged (the access log is off; failures name only vendor and voicemail id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from adapters.base import VendorAdapter
from adapters.errors import IdentityError, NotFound, VendorAuthError, VendorError, WebhookAuthError
from adapters.models import Capability, UserTokens, VoicemailAudio
from bot.alerts.state import AlertState
from bot.store import Store
from bot.webhook_auth import UrlTokens

log = logging.getLogger(__name__)

RESOURCE_PREFIX = "voicemail-"
REVOKED_BEFORE_KEY = "phonebot:listen:revoked-before"
AUDIO_CACHE_SECONDS = 300.0
AUDIO_CACHE_ENTRIES = 32
AUDIO_CACHE_BYTES = 64 * 1024 * 1024


def _revoked_key(vendor: str, voicemail_id: str) -> str:
    return f"phonebot:listen:revoked:{vendor}:{voicemail_id}"


async def revoke_all_links(store: Store, *, now: float | None = None) -> None:
    """Every Listen link issued until now stops working, on every replica (new alerts get new ones)."""
    await store.set(REVOKED_BEFORE_KEY, str(int(time.time() if now is None else now) + 1))


async def revoke_link(store: Store, vendor: str, voicemail_id: str, *, lifetime_seconds: float) -> None:
    """Every Listen link to one voicemail stops working, for as long as any of them could be valid."""
    await store.set(_revoked_key(vendor, voicemail_id), "1", ttl=lifetime_seconds)


class AudioCache:
    """Recordings by (vendor, voicemail id) for a few minutes; one vendor fetch per recording at a time."""

    def __init__(self, *, seconds: float = AUDIO_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._kept: OrderedDict[tuple[str, str], tuple[float, VoicemailAudio]] = OrderedDict()
        self._fetching: dict[tuple[str, str], asyncio.Task[VoicemailAudio]] = {}

    async def get(
        self, adapter: VendorAdapter, voicemail_id: str, *, owners: UserTokens | None = None
    ) -> VoicemailAudio:
        """The recording, fetched (with ``owners``' tokens where the vendor wants the owner's) or kept."""
        key = (adapter.name, voicemail_id)
        kept = self._kept.get(key)
        if kept is not None and kept[0] > self.clock():
            self._kept.move_to_end(key)
            return kept[1]
        task = self._fetching.get(key)
        if task is None:
            task = asyncio.create_task(adapter.voicemail_audio(voicemail_id, owners=owners))
            self._fetching[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(task)  # one requester hanging up must not cancel the others' fetch

    def _settle(self, key: tuple[str, str], task: asyncio.Task[VoicemailAudio]) -> None:
        self._fetching.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        audio = task.result()
        if len(audio.content) > AUDIO_CACHE_BYTES // 4:
            return  # too big to keep; still served
        self._kept[key] = (self.clock() + self.seconds, audio)
        while len(self._kept) > AUDIO_CACHE_ENTRIES or self._bytes() > AUDIO_CACHE_BYTES:
            self._kept.popitem(last=False)

    def forget(self, vendor: str, voicemail_id: str) -> None:
        self._kept.pop((vendor, voicemail_id), None)

    def _bytes(self) -> int:
        return sum(len(audio.content) for _, audio in self._kept.values())


class ListenLinks:
    """Issues Listen links for voicemail alerts and serves the audio behind them."""

    def __init__(
        self,
        public_url: str | None,
        tokens: UrlTokens,
        adapters: Mapping[str, VendorAdapter],
        *,
        store: Store | None = None,
        lifetime_seconds: float = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
        owner_tokens: Mapping[str, UserTokens] | None = None,
    ) -> None:
        self.public_url = public_url.rstrip("/") if public_url else None
        self.tokens = tokens
        self.adapters = adapters
        #: Per vendor, the personal tokens phonebot holds: a mailbox's audio is fetched as its owner.
        self.owner_tokens = dict(owner_tokens or {})
        self.store = store
        self.lifetime_seconds = lifetime_seconds
        self.clock = clock
        self.audio = AudioCache()

    def url_for(self, state: AlertState) -> str | None:
        """The Listen link for a voicemail alert, when phonebot can play it."""
        adapter = self.adapters.get(state.vendor)
        voicemail_id = state.detail.get("voicemail_id")
        if not self.public_url or state.family != "voicemail" or voicemail_id is None:
            return None
        if adapter is None or not adapter.supports(Capability.VOICEMAIL_AUDIO):
            return None
        try:
            token = self.tokens.token_for(state.vendor, f"{RESOURCE_PREFIX}{voicemail_id}:{int(self.clock())}")
        except ValueError:  # an id phonebot cannot put in a URL token
            return None
        return f"{self.public_url}/voicemails/{state.vendor}/{token}"

    async def serve(self, request: Request) -> Response:
        """``GET /voicemails/{vendor}/{token}``: the recording, or a short page saying plainly why not.

        The page is phonebot's own words (never the vendor's body): an invalid, expired or revoked
        link and a deleted voicemail are 404; a recording phonebot may not fetch (no token of the
        mailbox's owner, or the vendor refused it) is 403; a vendor that failed or sent something
        other than audio is 502.
        """
        vendor = request.path_params["vendor"]
        adapter = self.adapters.get(vendor)
        voicemail_id = await self._valid(vendor, request.path_params["token"])
        if adapter is None or voicemail_id is None or not adapter.supports(Capability.VOICEMAIL_AUDIO):
            return _page(
                404,
                "This Listen link isn't valid any more: Listen links expire after a few days and can be "
                "revoked. Listen to the voicemail in your phone system instead.",
            )
        name = adapter.display_name
        try:
            audio = await self.audio.get(adapter, voicemail_id, owners=self.owner_tokens.get(vendor))
        except IdentityError as exc:  # phonebot's own words: whose token it would need
            log.info("voicemail %s from %s not fetched: no token of its mailbox's owner", voicemail_id, vendor)
            return _page(403, f"phonebot can't play this voicemail. {exc}")
        except NotFound:
            return _page(404, f"This voicemail isn't in {name} any more (it may have been deleted).")
        except VendorAuthError as exc:
            log.warning("voicemail %s from %s refused (%s)", voicemail_id, vendor, exc.status_code)
            return _page(403, f"{name} refused to hand phonebot this recording. Listen to it in {name} instead.")
        except VendorError as exc:
            log.warning("voicemail %s from %s not fetched (%s)", voicemail_id, vendor, type(exc).__name__)
            return _page(502, f"{name} didn't hand over the recording just now. Try the link again in a minute.")
        media_type = audio.media_type.split(";", 1)[0].strip().lower()
        if not media_type.startswith("audio/"):
            log.warning("voicemail %s from %s is not audio (%s): not served", voicemail_id, vendor, media_type[:40])
            return _page(502, f"{name} sent something that isn't a recording, so phonebot won't play it.")
        extension = "mp3" if media_type == "audio/mpeg" else "audio"
        return Response(
            audio.content,
            media_type=media_type,
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": f'inline; filename="voicemail-{voicemail_id}.{extension}"',
                **_SAFE_HEADERS,
            },
        )

    async def _valid(self, vendor: str, token: str) -> str | None:
        """The voicemail id ``token`` stands for, if phonebot issued it, it is unexpired and not revoked."""
        try:
            resource = self.tokens.resource_for(vendor, token)
        except WebhookAuthError:
            return None
        voicemail_id, _, issued_text = resource.removeprefix(RESOURCE_PREFIX).rpartition(":")
        if not resource.startswith(RESOURCE_PREFIX) or not voicemail_id or not issued_text.isdigit():
            return None
        issued = int(issued_text)
        if not issued <= self.clock() < issued + self.lifetime_seconds:
            return None
        if self.store is not None:
            revoked_before = await self.store.get(REVOKED_BEFORE_KEY)
            if revoked_before is not None and issued < int(revoked_before):
                return None
            if await self.store.get(_revoked_key(vendor, voicemail_id)) is not None:
                return None
        return voicemail_id


_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}


def _page(status: int, text: str) -> Response:
    """A plain-text answer for a person who opened a Listen link: phonebot's words, nothing of the vendor's."""
    return PlainTextResponse(text + "\n", status_code=status, headers={"Cache-Control": "no-store", **_SAFE_HEADERS})
