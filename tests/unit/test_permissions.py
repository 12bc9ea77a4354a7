"""The admin policy (``bot.permissions``), the ``admins:`` setting and what ``phonebot check`` says about it."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.permissions import AdminPolicy
from bot.preflight import admin_summary

POLICY = AdminPolicy(["U0ADMIN", "U0OTHERADMIN"])


def test_admins_are_the_listed_slack_user_ids() -> None:
    assert POLICY.is_admin("U0ADMIN") and POLICY.is_admin("U0OTHERADMIN")
    assert not POLICY.is_admin("U0BOB") and not POLICY.is_admin("") and not POLICY.is_admin("u0admin")
    assert not AdminPolicy(()).is_admin("U0ADMIN")


@pytest.mark.parametrize(
    ("user", "owner", "allowed"),
    [
        ("U0BOB", None, True),  # nobody claimed it: anyone linked may
        ("U0BOB", "U0BOB", True),  # the claimer
        ("U0ADMIN", "U0BOB", True),  # an admin
        ("U0CAROL", "U0BOB", False),  # anyone else
    ],
)
def test_a_claimed_alert_is_resolved_or_released_by_its_claimer_or_an_admin(
    user: str, owner: str | None, allowed: bool
) -> None:
    for verb in ("resolve", "release"):
        decision = POLICY.change_claimed_alert(user, owner, verb=verb)
        assert bool(decision) is allowed
        if not allowed:  # kind: who has it, who else can, and the verb asked for
            assert "<@U0BOB> has this one" in decision.reason and f"can {verb} it" in decision.reason
            assert "a phonebot admin (<@U0ADMIN>, <@U0OTHERADMIN>)" in decision.reason


def test_dead_letters_are_for_admins_only() -> None:
    assert POLICY.replay_dead_letters("U0ADMIN")
    refusal = POLICY.replay_dead_letters("U0BOB")
    assert not refusal and "Only phonebot admins" in refusal.reason and "<@U0ADMIN>" in refusal.reason


def test_acting_on_another_persons_queues_is_for_admins_only() -> None:
    assert POLICY.act_for("U0BOB", "U0BOB")  # oneself: always
    assert POLICY.act_for("U0ADMIN", "U0BOB")
    refusal = POLICY.act_for("U0CAROL", "U0BOB")
    assert not refusal and "only on your own queues" in refusal.reason and "<@U0BOB>" in refusal.reason


def test_a_refusal_names_a_few_admins_or_says_there_are_none() -> None:
    many = AdminPolicy([f"U0ADMIN{n}" for n in range(5)])
    assert many.someone_who_can() == "a phonebot admin (<@U0ADMIN0>, <@U0ADMIN1>, <@U0ADMIN2> and 2 more)"
    none = AdminPolicy(()).replay_dead_letters("U0BOB")
    assert not none and "no phonebot admins are configured yet" in none.reason and "`admins:`" in none.reason


def test_a_crafted_owner_is_shown_as_text_never_as_markup() -> None:
    refusal = POLICY.change_claimed_alert("U0CAROL", "<!channel>", verb="resolve")
    assert "<!channel>" not in refusal.reason and "&lt;!channel&gt;" in refusal.reason


def test_the_config_takes_slack_user_ids_only() -> None:
    config = parse_config({"admins": [" U012ABCDEF ", "W0ENTERPRISE", "U012ABCDEF"]}, source="t.yml", env={})
    assert config.admins == ["U012ABCDEF", "W0ENTERPRISE"]
    assert AdminPolicy.from_config(config).admins == ("U012ABCDEF", "W0ENTERPRISE")
    with pytest.raises(ConfigError, match=r"t\.yml: admins: 'alice@example\.com' is not a Slack user id"):
        parse_config({"admins": ["alice@example.com"]}, source="t.yml", env={})
    with pytest.raises(ConfigError, match="is a Slack user group"):
        parse_config({"admins": ["S0SUPPORTTEAM"]}, source="t.yml", env={})


def test_check_counts_the_admins_or_warns_when_there_are_none() -> None:
    assert admin_summary(parse_config({"admins": ["U0A", "U0B"]}, source="t", env={})) == "admins: 2 (U0A, U0B)"
    warning = admin_summary(parse_config({}, source="t", env={}))
    assert warning.startswith("admins: WARNING: none listed") and "replay dead letters" in warning
