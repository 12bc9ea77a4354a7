"""A burst of lost calls through the running app: nothing lost, paced writes, one digest instead of a flood."""

from __future__ import annotations

import itertools
import re
import statistics
from typing import Any

import httpx
import pytest

from tests.e2e.alerting import FAST_DELIVERY, settle, subscribe, tele2_url, wait_until, writes
from tests.e2e.conftest import RunningApp
from tests.fakes.slack_api import SlackCall

PACE = 0.1
BURST = 200
PER_MINUTE = 20
CHANNEL = "C0BURST"
DELIVERY: dict[str, Any] = {**FAST_DELIVERY, "pace_seconds": PACE, "digest_refresh_seconds": 1}
pytestmark = pytest.mark.phonebot(
    overrides={
        "alerts": {
            "routes": [{"channel": CHANNEL, "name": "Support", "digest_after_per_minute": PER_MINUTE}],
            "delivery": DELIVERY,
        }
    }
)


def test_two_hundred_lost_calls_in_a_minute_fold_into_one_digest_and_respect_the_pacing(app: RunningApp) -> None:
    subscribe(app)
    url = tele2_url(app).replace("{event}", "LostCallerAdded")
    callers = [f"+3706990{n:04d}" for n in range(BURST)]
    with httpx.Client() as vendor:
        for caller in callers:
            body = app.phones.tele2.webhook_body("LostCallerAdded", {"callerid": caller})
            assert vendor.post(url, json=body).status_code == 200

    def is_digest(call: SlackCall) -> bool:
        return "more lost call" in call.args["text"]

    def folded() -> int:
        """How many alerts the digest says it holds, as last written."""
        digests = [c for c in writes(app.slack) if is_digest(c)]
        found = re.search(r"\+(\d+) more lost call", digests[-1].args["text"]) if digests else None
        return int(found.group(1)) if found else 0

    def own_posts() -> list[SlackCall]:
        return [c for c in writes(app.slack) if not is_digest(c)]

    wait_until(lambda: len(own_posts()) + folded() == BURST, timeout=90)
    settle(app, seconds=1.5)  # longer than a digest refresh: nothing else may follow

    posts = [c for c in writes(app.slack) if c.method == "chat.postMessage"]
    own = own_posts()
    # 20 alerts a minute get their own message (40 if the burst straddled a minute boundary) ...
    assert PER_MINUTE <= len(own) <= 2 * PER_MINUTE
    assert len({re.search(r"\+3706990\d{4}", c.args["text"]).group(0) for c in own}) == len(own)  # type: ignore[union-attr]
    # ... and everything else is one digest message, edited in place rather than reposted.
    [digest] = [c for c in posts if is_digest(c)]
    edits = [c for c in writes(app.slack) if c.method == "chat.update"]
    assert {c.args["ts"] for c in edits} <= {digest.response["ts"]}  # type: ignore[index]
    assert len(posts) == len(own) + 1
    final = app.slack.message(CHANNEL, digest.response["ts"])  # type: ignore[index]
    assert final is not None and f"+{BURST - len(own)} more lost call" in final["text"]
    # Writes to the channel are paced (the fake's clock, in seconds).
    moments = sorted(c.at for c in writes(app.slack))
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    # Each write is given a slot PACE after the last. Arrivals are timed at the fake, so on a loaded machine one
    # delayed write can land close to the next; unpaced writes would land together nearly every time.
    close = [gap for gap in gaps if gap < PACE * 0.5]
    assert len(close) <= max(1, len(gaps) // 20), f"{len(close)} of {len(gaps)} writes under {PACE * 0.5} s apart"
    assert statistics.mean(gaps) >= PACE * 0.95, f"writes {statistics.mean(gaps):.3f} s apart on average"
    # Edits of the digest are coalesced: at most one per refresh interval (1 s here), not one per alert.
    span = moments[-1] - moments[0]
    assert len(edits) <= span / 1.0 + 2, f"{len(edits)} digest edits in {span:.1f} s"
    print(f"burst: {len(own)} own posts, 1 digest, {len(edits)} edits over {span:.1f} s")
