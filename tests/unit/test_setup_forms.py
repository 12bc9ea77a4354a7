"""The Set up modals: fields derived from the adapters' config models, and submissions read back and validated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.setup.meta import ButtonTarget, SetupMeta
from handlers.setup.route_form import read_route_form, route_modal
from handlers.setup.threshold_form import read_threshold_form, threshold_modal
from handlers.setup.vendor_fields import VALUE_MAX, form_fields, read_vendor_form, secret_hint
from handlers.setup.vendor_form import pick_modal, vendor_modal
from tests.fakes.slack_api import MAX_VIEW_BLOCKS, check_blocks

SCOPE = "-:T0001"
STORED_TOKEN = "relatel-stored-secret-9876"


def typed(**values: str) -> dict[str, Any]:
    return {f"vendor_field:{k}": {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}


def test_a_vendors_fields_come_from_its_config_model() -> None:
    relatel = {f.name: f for f in form_fields("relatel")}
    assert next(iter(relatel)) == "base_url"
    assert relatel["token"].kind == "secret" and relatel["token"].required
    assert relatel["webhook_secret"].kind == "secret" and not relatel["webhook_secret"].required
    assert "paths" not in relatel and "alert_endpoints" not in relatel  # lists and maps stay in the file
    tele2 = {f.name: f for f in form_fields("tele2")}
    assert tele2["dial_format"].kind == "choice" and "national" in tele2["dial_format"].choices
    assert tele2["poll_lost_calls"].kind == "bool" and tele2["api_key"].kind == "secret"
    dstny = [f.name for f in form_fields("dstny")]
    assert dstny[0] == "base_url" and {"token", "domain", "user"} <= set(dstny[1:4])


def test_a_bad_url_and_a_missing_token_are_field_errors() -> None:
    form = read_vendor_form("relatel", typed(base_url="not a url"), None)
    assert form.config is None
    assert set(form.errors) == {"vendor_field:base_url", "vendor_field:token"}
    assert form.errors["vendor_field:token"] == "This is required."
    assert "URL" in form.errors["vendor_field:base_url"]


def test_a_good_form_parses_and_an_empty_secret_keeps_the_stored_one() -> None:
    fresh = read_vendor_form("relatel", typed(base_url="https://relatel.example/api/v2", token="new-token-1"), None)
    assert fresh.errors == {} and fresh.config is not None
    assert fresh.section == {"base_url": "https://relatel.example/api/v2", "token": "new-token-1"}
    stored = {"base_url": "https://relatel.example/api/v2", "token": STORED_TOKEN, "timezone": "Europe/Oslo"}
    edit = read_vendor_form("relatel", typed(base_url="https://other.example/api/v2"), stored)
    assert edit.errors == {} and edit.section["token"] == STORED_TOKEN
    assert "timezone" not in edit.section  # emptied in the form: back to the model's default
    assert edit.section["base_url"] == "https://other.example/api/v2"


def test_oversized_values_and_unknown_choices_are_refused() -> None:
    too_long = read_vendor_form("relatel", typed(base_url="https://x.example/" + "a" * VALUE_MAX, token="t"), None)
    assert "vendor_field:base_url" in too_long.errors
    state = {
        **typed(api_key="k" * 20),
        "vendor_field:dial_format": {"value": {"type": "static_select", "selected_option": {"value": "morse"}}},
    }
    assert "vendor_field:dial_format" in read_vendor_form("tele2", state, None).errors


def test_the_form_never_carries_a_stored_secret_and_fits_slacks_limits() -> None:
    stored = {"base_url": "https://relatel.example/api/v2", "token": STORED_TOKEN}
    view = vendor_modal(SCOPE, "relatel", stored=stored, problem="Relatel refused")
    text = json.dumps(view, ensure_ascii=False)
    assert STORED_TOKEN not in text and "\u2022\u2022\u2022\u2022 9876" in text and "Leave empty to keep it" in text
    assert "https://relatel.example/api/v2" in text  # non-secret fields are pre-filled
    [token] = [b for b in view["blocks"] if b.get("block_id") == "vendor_field:token"]
    assert token["optional"] is True and "initial_value" not in token["element"]
    for built in (view, vendor_modal(SCOPE, "tele2"), pick_modal(SCOPE, set()), pick_modal(SCOPE, {"relatel"})):
        assert check_blocks(built["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []
        assert len(built["private_metadata"]) < 3000 and len(built["title"]["text"]) <= 24
    assert "relatel" not in json.dumps(pick_modal(SCOPE, {"relatel"})["blocks"])


def test_secret_hints_show_four_characters_at_most() -> None:
    assert secret_hint("abcdefghijkl1234") == "\u2022\u2022\u2022\u2022 1234"
    assert secret_hint("short") == "\u2022\u2022\u2022\u2022"


def route_state(**extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "route:channel": {"value": {"type": "conversations_select", "selected_conversation": "C0ALERTS"}},
        "route:kinds": {"value": {"type": "checkboxes", "selected_options": [{"value": "lost_call"}]}},
    }
    state.update(extra)
    return state


def test_a_route_form_is_validated_like_the_file() -> None:
    good = read_route_form(route_state(), ["relatel"])
    assert good.errors == {} and good.entry is not None
    assert good.entry["channel"] == "C0ALERTS" and good.entry["kinds"] == ["lost_call"]
    assert read_route_form({}, []).errors.keys() == {"route:channel", "route:kinds"}
    half = read_route_form(route_state(**{"route:quiet_start": {"value": {"selected_time": "22:00"}}}), [])
    assert "route:quiet_end" in half.errors
    vendor = {"route:vendor": {"value": {"selected_option": {"value": "dstny"}}}}
    assert "route:vendor" in read_route_form(route_state(**vendor), ["relatel"]).errors
    many = {"route:groups": {"value": {"value": ",".join(f"q{i}" for i in range(60))}}}
    assert "route:groups" in read_route_form(route_state(**many), []).errors
    quiet = {
        "route:quiet_start": {"value": {"selected_time": "22:00"}},
        "route:quiet_end": {"value": {"selected_time": "07:00"}},
        "route:quiet_days": {"value": {"selected_options": [{"value": "mon"}, {"value": "fri"}]}},
        "route:groups": {"value": {"value": " Support , Sales,"}},
    }
    entry = read_route_form(route_state(**quiet), []).entry
    assert entry is not None and entry["groups"] == ["Support", "Sales"]
    assert entry["quiet_hours"] == {"start": "22:00", "end": "07:00", "days": ["mon", "fri"]}


def test_an_edited_route_is_shown_as_it_is_stored() -> None:
    current = {"channel": "C0ALERTS", "kinds": ["voicemail"], "vendor": "relatel", "groups": ["Support"]}
    view = route_modal(SCOPE, ["relatel"], current=current, index=0, was="abc123")
    text = json.dumps(view)
    assert '"initial_conversation": "C0ALERTS"' in text and "Support" in text
    assert SetupMeta.load(view["private_metadata"]) == SetupMeta(SCOPE, "route", index=0, digest="abc123")
    assert check_blocks(view["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []


@pytest.mark.parametrize(
    ("state", "block"),
    [
        ({"threshold:group": {"value": {"value": "Support"}}}, "threshold:calls_waiting"),  # no condition
        (
            {"threshold:group": {"value": {"value": "*"}}, "threshold:calls_waiting": {"value": {"value": "x"}}},
            "threshold:calls_waiting",
        ),
        ({"threshold:calls_waiting": {"value": {"value": "3"}}}, "threshold:group"),
    ],
    ids=["no-condition", "not-a-number", "no-group"],
)
def test_a_bad_threshold_form_names_the_field(state: dict[str, Any], block: str) -> None:
    assert block in read_threshold_form(state, []).errors


def test_a_good_threshold_form_parses() -> None:
    state = {
        "threshold:group": {"value": {"value": "*"}},
        "threshold:no_free_agent": {"value": {"selected_options": [{"value": "yes"}]}},
    }
    form = read_threshold_form(state, [])
    assert form.errors == {} and form.entry == {"group": "*", "no_free_agent": True, "min_duration_seconds": 30}
    assert check_blocks(threshold_modal(SCOPE, ["relatel"])["blocks"], max_blocks=MAX_VIEW_BLOCKS) == []


def test_metadata_and_button_values_refuse_what_phonebot_did_not_write() -> None:
    meta = SetupMeta(SCOPE, "vendor", vendor="relatel")
    assert SetupMeta.load(meta.dump()) == meta
    for raw in (None, "", "{", "[]", json.dumps({"scope": "bad scope", "form": "vendor"}), "x" * 4000):
        assert SetupMeta.load(raw) is None
    assert SetupMeta.load(json.dumps({"scope": SCOPE, "form": "vendor", "vendor": "../etc"})) is None
    assert ButtonTarget.load(ButtonTarget(SCOPE, "3", "abc").dump()) == ButtonTarget(SCOPE, "3", "abc")
    assert ButtonTarget(SCOPE, "3", "abc").index == 3
    for raw in ("x", "bad|relatel|", f"{SCOPE}|Relatel!|", f"{SCOPE}|relatel|XYZ", None):
        assert ButtonTarget.load(raw) is None
