"""Modal and App Home interactions, signed as Slack signs them (``payload=<JSON>``, see ``slack_requests``).

* :func:`view_submission` — the user presses a modal's submit button, with the inputs' state;
* :func:`input_dispatch` — the user presses Enter in a ``dispatch_action`` text input of a modal;
* :func:`home_click` — a button on a published App Home view (no ``response_url``, as Slack sends).

``view`` is the view as :class:`~tests.fakes.slack_api.FakeSlack` holds it (``views`` / ``home_views``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from tests.fakes.slack_requests import API_APP_ID, FORM, TEAM_DOMAIN, VERIFICATION_TOKEN, SlackSigner, _trigger_id


def _envelope(kind: str, *, user_id: str, team_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _signed(signer: SlackSigner, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    return signer.sign(urlencode({"payload": json.dumps(payload)}).encode(), content_type=FORM)


def view_submission(
    signer: SlackSigner,
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str,
    team_id: str = "T0001",
) -> tuple[bytes, dict[str, str]]:
    """``view_submission`` of ``view`` with ``state.values`` = ``values`` (block id → action id → value)."""
    payload = _envelope("view_submission", user_id=user_id, team_id=team_id)
    payload["view"] = {**view, "state": {"values": values}}
    payload["response_urls"] = []
    return _signed(signer, payload)


def input_dispatch(
    signer: SlackSigner,
    view: dict[str, Any],
    *,
    block_id: str,
    action_id: str,
    value: str,
    user_id: str,
    team_id: str = "T0001",
) -> tuple[bytes, dict[str, str]]:
    """``block_actions`` from a ``plain_text_input`` with ``dispatch_action`` (Enter pressed) in ``view``."""
    payload = _envelope("block_actions", user_id=user_id, team_id=team_id)
    state = {"values": {block_id: {action_id: {"type": "plain_text_input", "value": value}}}}
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload["view"] = {**view, "state": state}
    payload["state"] = state
    payload["actions"] = [
        {"type": "plain_text_input", "action_id": action_id, "block_id": block_id, "value": value, "action_ts": "1.0"}
    ]
    return _signed(signer, payload)


def home_click(
    signer: SlackSigner, home: dict[str, Any], button: dict[str, Any], *, user_id: str, team_id: str = "T0001"
) -> tuple[bytes, dict[str, str]]:
    """A click on ``button`` (an element of ``home``'s blocks) on the App Home tab."""
    payload = _envelope("block_actions", user_id=user_id, team_id=team_id)
    payload["container"] = {"type": "view", "view_id": home["id"]}
    payload["view"] = {**home, "state": {"values": {}}}
    payload["state"] = {"values": {}}
    payload["actions"] = [
        {
            "type": "button",
            "action_id": button["action_id"],
            "block_id": "home",
            "text": button.get("text"),
            "value": button.get("value", ""),
            "action_ts": "1.0",
        }
    ]
    return _signed(signer, payload)
