"""What phonebot itself keeps per person for their App Home: presences they use most, calls they placed, and
the answer to their last click there. Bounded in count, length and time."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.store import Store

USES_KEY = "home:presence-uses:{user}"
CALLS_KEY = "home:recent-calls:{user}"
NOTICE_KEY = "home:notice:{user}"
#: Distinct presence texts counted per person (the least used goes first).
MAX_USES = 20
USES_TTL_SECONDS = 90 * 24 * 3600.0
MAX_PRESENCE_TEXT = 60
#: Calls kept per person, newest first, and for how long.
MAX_CALLS = 5
CALLS_TTL_SECONDS = 7 * 24 * 3600.0
MAX_SHOWN = 300
NOTICE_TTL_SECONDS = 120.0


@dataclass(frozen=True)
class RecentCall:
    """One call a person placed with phonebot."""

    id: str
    number: str
    #: Who was called as mrkdwn, already safe (``handlers.call`` renders it).
    shown: str
    name: str | None
    at: datetime


def normal_presence(text: str) -> str:
    """A presence text as counted: lower case, single spaces, bounded."""
    return " ".join(text.lower().split())[:MAX_PRESENCE_TEXT]


async def count_presence(store: Store, user_id: str, text: str) -> None:
    """Count one use of presence ``text`` by ``user_id``.

    Read-modify-write: two changes at the same instant may count as one, which is fine for a ranking.
    """
    key = USES_KEY.format(user=user_id)
    counts = await _counts(store, key)
    used = normal_presence(text)
    counts[used] = counts.get(used, 0) + 1
    kept = dict(sorted(counts.items(), key=lambda item: -item[1])[:MAX_USES])
    await store.set(key, json.dumps(kept), ttl=USES_TTL_SECONDS)


async def most_used(store: Store, user_id: str, *, limit: int = 3, besides: tuple[str, ...] = ()) -> list[str]:
    """``user_id``'s most used presence texts, most used first, leaving out ``besides``."""
    counts = await _counts(store, USES_KEY.format(user=user_id))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [text for text, _ in ranked if text not in besides][:limit]


async def _counts(store: Store, key: str) -> dict[str, int]:
    raw = await store.get(key)
    try:
        loaded = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k)[:MAX_PRESENCE_TEXT]: v for k, v in loaded.items() if isinstance(v, int)}


async def remember_call(store: Store, user_id: str, *, number: str, shown: str, name: str | None) -> None:
    """Keep a call ``user_id`` placed, newest first (at most :data:`MAX_CALLS`)."""
    key = CALLS_KEY.format(user=user_id)
    entry = {
        "id": secrets.token_urlsafe(8),
        "number": number[:32],
        "shown": shown[:MAX_SHOWN],
        "name": name[:200] if name else None,
        "at": datetime.now(UTC).isoformat(),
    }
    kept = [entry] + [_entry(call) for call in await recent_calls(store, user_id)]
    await store.set(key, json.dumps(kept[:MAX_CALLS]), ttl=CALLS_TTL_SECONDS)


async def recent_calls(store: Store, user_id: str) -> list[RecentCall]:
    """The calls ``user_id`` placed with phonebot lately, newest first."""
    raw = await store.get(CALLS_KEY.format(user=user_id))
    try:
        loaded = json.loads(raw) if raw else []
    except ValueError:
        return []
    calls: list[RecentCall] = []
    for item in loaded if isinstance(loaded, list) else []:
        try:
            calls.append(
                RecentCall(
                    id=str(item["id"]),
                    number=str(item["number"]),
                    shown=str(item["shown"])[:MAX_SHOWN],
                    name=str(item["name"]) if item.get("name") else None,
                    at=datetime.fromisoformat(str(item["at"])),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return calls[:MAX_CALLS]


def _entry(call: RecentCall) -> dict[str, str | None]:
    return {"id": call.id, "number": call.number, "shown": call.shown, "name": call.name, "at": call.at.isoformat()}


async def set_notice(store: Store, user_id: str, text: str) -> None:
    """The answer to ``user_id``'s last click on their Home (mrkdwn), shown there for a little while."""
    await store.set(NOTICE_KEY.format(user=user_id), text[: MAX_SHOWN * 5], ttl=NOTICE_TTL_SECONDS)


async def notice(store: Store, user_id: str) -> str | None:
    """The answer to ``user_id``'s last Home click, while it is fresh."""
    return await store.get(NOTICE_KEY.format(user=user_id))
