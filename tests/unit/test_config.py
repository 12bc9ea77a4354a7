"""Configuration loading: interpolation, validation errors that name file, field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, interpolate, load_config, parse_config

DSTNY = {"base_url": "https://bc.example.com", "token": "${DSTNY_TOKEN}", "domain": "example.com", "user": "svc"}


def test_interpolates_secrets_from_env() -> None:
    config = parse_config({"vendors": {"dstny": DSTNY}}, source="p.yml", env={"DSTNY_TOKEN": "t0k"})
    dstny = config.vendors["dstny"]
    assert dstny.token.get_secret_value() == "t0k"  # type: ignore[attr-defined]
    assert "t0k" not in repr(config)


def test_default_value_syntax() -> None:
    assert interpolate({"a": "${NOPE:-fallback}"}, {}) == {"a": "fallback"}


def test_missing_variable_names_file_and_field() -> None:
    with pytest.raises(ConfigError, match=r"p\.yml: vendors\.dstny\.token: environment variable DSTNY_TOKEN"):
        parse_config({"vendors": {"dstny": DSTNY}}, source="p.yml", env={})


def test_missing_field_names_file_and_field() -> None:
    raw = {"vendors": {"dstny": {"base_url": "https://x.example", "token": "t", "user": "svc"}}}
    with pytest.raises(ConfigError, match=r"p\.yml: vendors\.dstny\.domain: Field required"):
        parse_config(raw, source="p.yml", env={})


def test_unknown_vendor_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown vendor 'foo'; known vendors: dstny, .*relatel"):
        parse_config({"vendors": {"foo": {}}}, source="p.yml", env={})


def test_bad_timezone_and_country() -> None:
    with pytest.raises(ConfigError, match="timezone: 'Mars/Base' is not an IANA time zone"):
        parse_config({"timezone": "Mars/Base"}, source="p.yml", env={})
    with pytest.raises(ConfigError, match="default_country: 'XX'"):
        parse_config({"default_country": "XX"}, source="p.yml", env={})


def test_unknown_top_level_key_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"p\.yml: colour: Extra inputs are not permitted"):
        parse_config({"colour": "blue"}, source="p.yml", env={})


def test_user_mapping_needs_a_key_and_a_known_vendor() -> None:
    with pytest.raises(ConfigError, match=r"users\.0.*needs `slack`"):
        parse_config({"users": [{"vendor_user": "x"}]}, source="p.yml", env={})
    with pytest.raises(ConfigError, match=r"users\[0\]\.vendor 'relatel' is not configured"):
        parse_config({"users": [{"slack": "U1", "vendor": "relatel"}]}, source="p.yml", env={})


def test_load_from_file_and_yaml_errors(tmp_path: Path) -> None:
    good = tmp_path / "phonebot.yml"
    good.write_text("default_country: se\ntimezone: Europe/Stockholm\n", encoding="utf-8")
    config = load_config(good, env={})
    assert config.default_country == "SE"
    bad = tmp_path / "bad.yml"
    bad.write_text("vendors: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yml: not valid YAML at line"):
        load_config(bad, env={})
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yml", env={})


def test_primary_vendor_defaults_to_first() -> None:
    relatel = {"base_url": "https://app.example/api/v2", "token": "t"}
    config = parse_config({"vendors": {"relatel": relatel, "dstny": DSTNY}}, source="p", env={"DSTNY_TOKEN": "x"})
    assert config.primary_vendor() == "relatel"


def test_settings_read_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-1")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    settings = Settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-test-1"
    assert "xoxb-test-1" not in repr(settings)
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


def test_user_tokens_per_vendor_by_named_user_then_unnamed() -> None:
    config = parse_config(
        {
            "vendors": {
                "relatel": {"token": "admin-token"},
                "dstny": {"base_url": "https://d.example", "token": "d", "domain": "x", "user": "u"},
            },
            "users": [
                {"slack": "U1", "vendor_user": "2", "token": "bob-own-token"},  # the first vendor: relatel
                {"email": "carol@example.com", "vendor": "relatel", "token": "carol-own-token"},
                {"slack": "U3", "vendor": "relatel", "vendor_user": "4"},  # no token: not listed
                {"slack": "U4", "vendor": "dstny", "vendor_user": "d1", "token": "dstny-user-token"},
            ],
        },
        source="t",
    )
    relatel = config.user_tokens("relatel")
    assert {user: token.get_secret_value() for user, token in relatel.by_user.items()} == {"2": "bob-own-token"}
    assert [token.get_secret_value() for token in relatel.unnamed] == ["carol-own-token"]
    assert "own-token" not in repr(relatel)  # secret types: no repr or log line shows them
    assert list(config.user_tokens("dstny").by_user) == ["d1"]


def test_dial_device_is_checked_against_the_users_vendor() -> None:
    vendors = {"relatel": {"token": "t"}, "multisender": {"api_token": "m"}}

    def users(*entries: dict[str, str]) -> dict[str, object]:
        return {"vendors": vendors, "users": list(entries)}

    config = parse_config(
        users(
            {"slack": "U1", "vendor_user": "2", "dial_device": "mobile"},
            {"slack": "U2", "vendor_user": "3", "dial_device": "web_call"},
            {"slack": "U3", "vendor_user": "4", "dial_device": ""},  # empty: every device, as Relatel's ""
        ),
        source="t",
    )
    assert [user.dial_device for user in config.users] == ["mobile", "web_call", None]
    with pytest.raises(
        ConfigError, match=r"users\[0\]\.dial_device 'desk' is not a Relatel device; use 'mobile', 'web_call'"
    ):
        parse_config(users({"slack": "U1", "dial_device": "desk"}), source="t")
    with pytest.raises(ConfigError, match=r"users\[0\]\.dial_device: Multisender .* no per-user device choice"):
        parse_config(users({"slack": "U1", "vendor": "multisender", "dial_device": "mobile"}), source="t")
