"""Listen links: issued only where phonebot can play the voicemail, and only for voicemails."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.relatel.adapter import RelatelAdapter, RelatelConfig
from adapters.tele2.adapter import Tele2Adapter, Tele2Config
from bot.alerts.listen import ListenLinks
from bot.webhook_auth import UrlTokens
from handlers.alert_view import AlertState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOKENS = UrlTokens(b"unit-test-secret-0123456789")
ADAPTERS = {
    "relatel": RelatelAdapter(RelatelConfig(token="t")),
    "tele2": Tele2Adapter(Tele2Config(api_key="k")),
}


def state(vendor: str, family: str = "voicemail", **detail: object) -> AlertState:
    return AlertState(vendor=vendor, subject="s", family=family, first_at=T0, last_at=T0, detail=detail)  # type: ignore[arg-type]


def test_links_only_for_voicemails_of_vendors_phonebot_can_play() -> None:
    links = ListenLinks("https://pb.example.com/", TOKENS, ADAPTERS)
    url = links.url_for(state("relatel", voicemail_id="502"))
    assert url == f"https://pb.example.com/voicemails/relatel/{TOKENS.token_for('relatel', 'voicemail-502')}"
    assert links.url_for(state("tele2", voicemail_id="7001")) is None  # Tele2 gives its own link
    assert links.url_for(state("relatel", family="lost_call", voicemail_id="502")) is None
    assert links.url_for(state("relatel")) is None  # no id, no link
    assert links.url_for(state("relatel", voicemail_id="not a valid/token id")) is None


def test_no_public_url_no_link() -> None:
    assert ListenLinks(None, TOKENS, ADAPTERS).url_for(state("relatel", voicemail_id="502")) is None
