"""Slash commands and buttons end to end: signed HTTP in, fake Slack and vendor simulators out."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.simulate import RELATEL_BOB_TOKEN
from tests.e2e.conftest import RunningApp

ACK_BUDGET = 1.0  # seconds; Slack allows 3


def _text(message: dict[str, object]) -> str:
    return str(message.get("text", ""))


def test_presence_lunch_sets_dstny_activity_with_expiry(app: RunningApp) -> None:
    response, url = app.command("/presence", "lunch 45m")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() < ACK_BUDGET
    reply = app.reply(url)
    assert reply["response_type"] == "ephemeral"
    assert "Your phone presence is now *Lunch* until" in _text(reply)
    alice = app.phones.dstny.presence_of("alice")
    assert alice.activity == "lunch"
    assert alice.expires is not None
    expected = datetime.now(UTC) + timedelta(minutes=45)
    assert abs((alice.expires - expected).total_seconds()) < 90

    response, url = app.command("/presence", "")
    assert "You are *Lunch* until" in _text(app.reply(url))

    response, url = app.command("/presence", "back")
    assert "available again" in _text(app.reply(url))
    assert app.phones.dstny.presence_of("alice").activity == "available"


def test_presence_forward_to_a_colleague_shows_and_ends_with_available(app: RunningApp) -> None:
    """Issue 10 point 16: Dstny's active diversion number, tied to the presence it sets."""
    _, url = app.command("/presence", "forward to <@U0BOB|bob> for 1h")
    assert "Your calls now forward to <@U0BOB> (+4571000002) until " in _text(app.reply(url))
    alice = app.phones.dstny.presence_of("alice")
    assert (alice.diversion, alice.diversion_scoped, alice.activity) == ("+4571000002", True, "away")

    _, url = app.command("/presence", "")
    assert "Your calls forward to +4571000002." in _text(app.reply(url))

    _, url = app.command("/presence", "available")
    assert "available again" in _text(app.reply(url))
    assert app.phones.dstny.presence_of("alice").diversion is None


def test_presence_of_a_colleague_and_of_an_unlinked_user(app: RunningApp) -> None:
    _, url = app.command("/presence", "<@U0BOB|bob>")
    assert "<@U0BOB> is *Meeting*" in _text(app.reply(url))
    _, url = app.command("/presence", "<@U0STRANGER|sam>")
    assert "isn't linked" in _text(app.reply(url))


def test_presence_uses_the_users_own_slack_timezone(app: RunningApp) -> None:
    # Carol's Slack profile says Europe/Vilnius: "until 14:00" is 14:00 there.
    _, url = app.command("/presence", "away until 23:59", user="U0CAROL")
    # At 23:59 in Vilnius itself the next 23:59 is tomorrow's.
    assert re.search(r"until (tomorrow )?23:59", _text(app.reply(url)))
    expires = app.phones.dstny.presence_of("carol").expires
    assert expires is not None
    assert expires.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Vilnius")).strftime("%H:%M") == "23:59"


def test_unknown_activity_lists_the_valid_ones(app: RunningApp) -> None:
    _, url = app.command("/presence", "snorkelling 1h")
    text = _text(app.reply(url))
    assert "Lunch" in text and "Meeting" in text and "Choose one of" in text


def test_malformed_presence_gets_a_kind_answer_with_an_example(app: RunningApp) -> None:
    _, url = app.command("/presence", "lunch 45 parsecs")
    text = _text(app.reply(url))
    assert "For example: `/presence" in text
    assert "Traceback" not in text


def test_call_number_rings_own_phone_first(app: RunningApp) -> None:
    response, url = app.command("/call", "+45 71 99 99 99")
    assert response.status_code == 200 and response.elapsed.total_seconds() < ACK_BUDGET
    assert "Your own phone rings first" in _text(app.reply(url))
    dial = app.phones.dstny.dials[-1]
    assert dial.user == "alice"
    assert dial.raw_path.endswith("/%2B4571999999")


def test_call_national_number_uses_default_country(app: RunningApp) -> None:
    _, url = app.command("/call", "71999999")
    app.reply(url)
    assert app.phones.dstny.dials[-1].target == "+4571999999"


def test_invalid_number_is_answered_in_the_ack(app: RunningApp) -> None:
    response, _ = app.command("/call", "12")
    assert response.status_code == 200
    body = response.json()
    assert "too short" in body["text"] and "For example" in body["text"]
    assert app.phones.dstny.dials == []


def test_ambiguous_contact_offers_buttons_and_a_click_dials(app: RunningApp) -> None:
    _, url = app.command("/call", "jensen")
    reply = app.reply(url)
    actions = next(block for block in reply["blocks"] if block["type"] == "actions")
    buttons = actions["elements"]
    assert ["+4540000001" in b["text"]["text"] for b in buttons] == [True, False]
    assert all("+45" not in b["value"] for b in buttons)  # a button carries a token, never the number itself
    _, crafted_url = app.click("call_pick:x", json.dumps({"number": "+4599999999", "name": "Mallory"}))
    assert "run `/call` again" in _text(app.reply(crafted_url))  # only what phonebot offered can be dialled
    assert app.phones.dstny.dials == []
    response, click_url = app.click(buttons[1]["action_id"], buttons[1]["value"])
    assert response.status_code == 200 and response.elapsed.total_seconds() < ACK_BUDGET
    answer = app.reply(click_url)
    assert answer.get("replace_original") is True
    assert "Jensen Plumbing" in _text(answer)
    assert app.phones.dstny.dials[-1].target == "+4540000002"


def test_call_a_colleague_by_mention(app: RunningApp) -> None:
    _, url = app.command("/call", "<@U0CAROL|carol>")
    assert "Your own phone rings first" in _text(app.reply(url))
    assert app.phones.dstny.dials[-1].target == "+4571000003"


def test_queue_status_shows_every_group(app: RunningApp) -> None:
    _, url = app.command("/queue", "status")
    text = _text(app.reply(url))
    assert "*Support* — :red_circle: 2 waiting" in text
    assert "*Sales*" in text
    assert "answered" in text and "missed" in text


def test_queue_login_and_logout(app: RunningApp) -> None:
    _, url = app.command("/queue", "login sales")
    assert "logged in to *Sales*" in _text(app.reply(url))
    assert app.phones.dstny.is_logged_in("alice", 36)
    # Logged in to both now: logout without a group needs a choice.
    _, url = app.command("/queue", "logout")
    reply = app.reply(url)
    buttons = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"]
    sales = next(b for b in buttons if "Sales" in b["text"]["text"])
    _, click_url = app.click(sales["action_id"], sales["value"])
    assert "logged out of *Sales*" in _text(app.reply(click_url))
    assert not app.phones.dstny.is_logged_in("alice", 36)


def test_help_and_whoami(app: RunningApp) -> None:
    response, _ = app.command("/phonebot", "help")
    text = response.json()["text"]
    for command in ("/presence", "/call", "/queue", "/phonebot"):
        assert command in text
    _, url = app.command("/phonebot", "whoami")
    assert "Dstny user *alice*" in _text(app.reply(url))


def test_presence_help_lists_the_users_own_dstny_activities(app: RunningApp) -> None:
    _, url = app.command("/phonebot", "help presence")
    text = _text(app.reply(url))
    listed = "Available, Lunch, Meeting, Away, Out of office, Vacation, Do not disturb, Busy."
    assert f"Your activities on Dstny: {listed}" in text
    sentence = text.split("Your activities on Dstny:")[1].split(".")[0]
    assert "Sick" not in sentence and "sick" not in sentence  # not on this user's Dstny list
    assert "everyone has" not in text


@pytest.mark.phonebot(default_vendor="relatel")
def test_presence_help_on_relatel_says_dnd_only(app: RunningApp) -> None:
    _, url = app.command("/phonebot", "help presence")
    text = _text(app.reply(url))
    assert "Activities on Relatel: *dnd* only" in text and "everyone has" not in text
    assert "/presence lunch 45m" in text  # the rest of the help is unchanged


def test_unlinked_user_is_told_how_to_get_linked(app: RunningApp) -> None:
    _, url = app.command("/call", "+4571999999", user="U0STRANGER")
    text = _text(app.reply(url))
    assert "sam@elsewhere.example" in text and "Find yourself in the directory" in text  # tests/e2e/test_link_directory


@pytest.mark.phonebot(overrides={"slow_notice_seconds": 0.5, "vendors": {"dstny": {"timeout_seconds": 1}}})
def test_hanging_vendor_never_delays_the_ack(app: RunningApp) -> None:
    """The vendor hangs for 10 s: the ack still comes at once, the answer via response_url."""
    app.phones.dstny.set_faults(latency=10.0)
    started = time.monotonic()
    response, url = app.command("/queue", "status")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() < ACK_BUDGET, response.elapsed
    assert "Working on it" in _text(app.reply(url, count=1, timeout=5))
    final = _text(app.reply(url, count=2, timeout=60))
    assert "didn't answer in time" in final
    assert time.monotonic() - started < 60
    app.phones.dstny.clear_faults()


def test_vendor_refusing_credentials_is_explained(app: RunningApp) -> None:
    _, url = app.command("/presence", "")  # links alice (email lookup) first
    app.reply(url)
    app.phones.dstny.set_faults(status=401)
    _, url = app.command("/queue", "status")
    assert "refused phonebot's credentials" in _text(app.reply(url))


def test_forged_and_stale_signatures_are_rejected(app: RunningApp) -> None:
    url = app.slack.new_response_url()
    for kwargs in ({"forge": True}, {"stale": True}):
        body, headers = app.signer.slash_command(
            "/call", "+4571999999", user_id="U0ALICE", user_name="alice", response_url=url, **kwargs
        )
        assert app.client.send_sync(body, headers).status_code == 401
    unsigned = httpx.post(app.url + "/slack/events", content=b"command=/call&text=1")
    assert unsigned.status_code == 401
    assert app.phones.dstny.dials == []


def test_slack_rate_limit_on_users_info_is_honoured(app: RunningApp) -> None:
    app.slack.fail("users.info", status=429, retry_after=1, times=1)
    _, url = app.command("/presence", "meeting for 1h30")
    assert "*Meeting* until" in _text(app.reply(url, timeout=15))
    assert len(app.slack.calls_to("users.info")) >= 2


def test_app_home_is_published_once_per_event(app: RunningApp) -> None:
    event = {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0001", "tab": "home"}
    for retry in (None, 1):
        body, headers = app.signer.event_callback(event, event_id="Ev0001", retry_num=retry)
        assert app.client.send_sync(body, headers).status_code == 200
    calls = app.slack.wait_for("views.publish", count=1)
    time.sleep(0.3)
    assert len(app.slack.calls_to("views.publish")) == 1
    assert "alice" in str(calls[0].args["view"])


@pytest.mark.phonebot(default_vendor="relatel")
def test_relatel_dial_uses_the_callers_own_token(app: RunningApp) -> None:
    _, url = app.command("/call", "+45 71 99 99 99", user="U0BOB")
    assert "Your own phone rings first (Relatel)" in _text(app.reply(url))
    dial = app.phones.relatel.dials[-1]
    assert dial.employee_id == 2 and dial.to_number == "4571999999"


BOB_ON_MOBILE = {
    "users": [
        {"slack": "U0BOB", "vendor": "relatel", "vendor_user": "2", "token": RELATEL_BOB_TOKEN, "dial_device": "mobile"}
    ]
}


@pytest.mark.phonebot(default_vendor="relatel", overrides=BOB_ON_MOBILE)
def test_relatel_dial_rings_only_the_device_the_user_chose(app: RunningApp) -> None:
    """``users[].dial_device: mobile`` is sent as ``restrict_to`` (seed 000 ~660, "only rings on that device")."""
    _, url = app.command("/call", "+45 71 99 99 99", user="U0BOB")
    assert "Your mobile rings first (Relatel)" in _text(app.reply(url))
    [dial] = app.phones.relatel.dials
    assert (dial.employee_id, dial.to_number, dial.restrict_to) == (2, "4571999999", "mobile")


@pytest.mark.phonebot(default_vendor="relatel")
def test_relatel_queue_login_and_logout_work_on_the_documented_api(app: RunningApp) -> None:
    """The 2014 join/leave routes answer 404 (not in the v2.1.2 documents): the admin group update does it."""
    relatel = app.phones.relatel
    _, url = app.command("/queue", "login sales", user="U0BOB")
    assert "You're logged in to *Sales*" in _text(app.reply(url))
    assert relatel.group(21)["employee_ids"] == [3, 2]
    _, url = app.command("/queue", "logout support team", user="U0BOB")
    assert "You're logged out of *Support team*" in _text(app.reply(url))
    assert relatel.group(20)["employee_ids"] == [1]
    relatel.respond_with("PUT", "/employee_groups/21", {"status": "failure", "message": "404 Not Found"}, status=404)
    _, url = app.command("/queue", "logout sales", user="U0BOB")
    text = _text(app.reply(url))
    assert "Relatel couldn't find what phonebot asked for" in text
    assert not re.search(r"employee_group|/join|/leave|\.update", text)  # no operation or endpoint names


@pytest.mark.phonebot(default_vendor="relatel")
def test_relatel_never_rings_the_wrong_phone(app: RunningApp) -> None:
    _, url = app.command("/call", "+4571999999", user="U0CAROL")  # mapped, but without a token
    assert "wrong phone" in _text(app.reply(url))
    assert app.phones.relatel.dials == []


@pytest.mark.phonebot(default_vendor="relatel")
def test_relatel_presence_keeps_the_label(app: RunningApp) -> None:
    _, url = app.command("/presence", "lunch 45m")
    assert "*Lunch*" in _text(app.reply(url))
    assert app.phones.relatel.employee(1)["do_not_disturb"] is True
    _, url = app.command("/presence", "")
    assert "You are *Lunch* until" in _text(app.reply(url))


def test_health_readiness_and_metrics(app: RunningApp) -> None:
    assert httpx.get(app.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(app.url + "/readyz")
    checks = {
        "store": "ok",
        "slack": "ok",
        "vendors": "ok",
        "alert_worker": "ok",
        "alert_queue": "ok",
        "command_workers": "ok",
        "command_queue": "ok",
    }
    assert ready.status_code == 200 and ready.json()["checks"] == checks
    app.command("/phonebot", "help")
    metrics = httpx.get(app.url + "/metrics").text
    assert re.search(r'phonebot_commands_total\{command="/phonebot",outcome="usage"\} [1-9]', metrics)
    assert "phonebot_ack_seconds_bucket" in metrics
    assert re.search(r'^phonebot_build_info\{python="3\.\d+\.\d+\w*",version="[^"]+"\} 1\.0$', metrics, re.M)
    assert httpx.post(app.url + "/webhooks/nope/x").status_code == 404


def test_a_signed_request_for_another_workspace_or_app_is_refused(app: RunningApp) -> None:
    """Issue 9 point 11: team_id and api_app_id must be this installation's, signature or not."""
    for extra in ({"team_id": "T0OTHER"}, {"api_app_id": "A0OTHER"}):
        response_url = app.slack.new_response_url()
        body, headers = app.signer.slash_command(
            "/call", "+4571999999", user_id="U0ALICE", user_name="alice", response_url=response_url, **extra
        )
        assert app.client.send_sync(body, headers).status_code == 403
    assert app.phones.dstny.dials == []
    answer, url = app.command("/phonebot", "whoami")  # this workspace's requests still work
    assert answer.status_code == 200 and "You are" in str(app.reply(url))
