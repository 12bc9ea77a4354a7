"""``app_manifest.yml`` is a valid Slack app manifest and asks for exactly what phonebot uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.status_sync.flow import CALLBACK_PATH as STATUS_CALLBACK_PATH
from bot.status_sync.tokens import USER_SCOPES

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "app_manifest.yml"
SCHEMA_NAME = "manifest.schema.1.0.0.json"
SHARED_SCHEMA = REPO.parent / "shared/specs/slack" / SCHEMA_NAME
VENDORED_SCHEMA = REPO / "tests/fixtures/slack" / SCHEMA_NAME

REQUEST_URL = "https://phonebot.example.com/slack/events"
HANDLED_COMMANDS = ["/presence", "/call", "/queue", "/phonebot"]
BOT_SCOPES = {
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "users:read.email",
    "channels:history",  # looking for a post whose outcome was unknown before posting again
    "groups:history",
}
BOT_EVENTS = [
    "app_home_opened",
    "app_uninstalled",  # issue 11 point 2: an uninstall deletes the workspace's installation and data
    "tokens_revoked",  # ... and so does a revoked bot token
    "user_huddle_changed",  # issue 12 point 5: a huddle puts the person's phone on DND (opt-in)
    "user_status_changed",  # issue 12 point 6: a mapped Slack status sets the phone presence (opt-in)
]
REDIRECT_URL = "https://phonebot.example.com/slack/oauth_redirect"
STATUS_REDIRECT_URL = "https://phonebot.example.com/slack-status/callback"


def schema_path() -> Path:
    """The shared copy when ``shared/`` is checked out beside the repo, else the vendored one."""
    return SHARED_SCHEMA if SHARED_SCHEMA.is_file() else VENDORED_SCHEMA


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_validates_against_slack_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    errors = sorted(Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
    # the schema states this one as "regex", which JSON Schema does not enforce
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", manifest["display_information"]["background_color"])


def test_vendored_schema_matches_shared_copy_and_keeps_its_licence() -> None:
    assert (VENDORED_SCHEMA.parent / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    if not SHARED_SCHEMA.is_file():
        pytest.skip("shared/ is not checked out beside the repository")
    assert VENDORED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_metadata_and_identity(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert manifest["display_information"]["name"] == "phonebot"
    assert manifest["display_information"]["description"]
    assert manifest["features"]["bot_user"] == {"display_name": "phonebot", "always_online": True}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_every_command_is_handled_and_posts_to_the_events_url(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    names = [c["command"] for c in commands]
    assert sorted(names) == sorted(HANDLED_COMMANDS)
    for command in commands:
        assert command["url"] == REQUEST_URL, command["command"]
        assert command["should_escape"] is True, command["command"]
        assert command["usage_hint"], command["command"]
    hints = {c["command"]: c["usage_hint"] for c in commands}
    assert hints["/presence"] == "[lunch 45m | away until 14:00 | forward to +4571999999 | available | @user]"
    assert hints["/call"] == "[+4571999999 | name | @user]"
    assert hints["/queue"] == "[status | login | logout] [group]"
    assert hints["/phonebot"] == "[help | whoami]"


def test_manifest_commands_match_the_registered_listeners(manifest: dict[str, Any]) -> None:
    from handlers.commands import SLASH_COMMANDS

    assert sorted(SLASH_COMMANDS) == sorted(c["command"] for c in manifest["features"]["slash_commands"])


def test_scopes_are_exactly_what_phonebot_uses(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot", "user"}
    assert scopes["user"] == list(USER_SCOPES), "the user scopes Connect Slack status asks for, and no other"
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(scopes["bot"]) == BOT_SCOPES


def test_add_to_slack_asks_for_the_manifest_scopes_and_comes_back_to_the_registered_redirect_url(
    manifest: dict[str, Any],
) -> None:
    """Issue 11 point 1: the install page requests exactly the manifest's bot scopes, and no user scope."""
    from bot.installs.oauth import BOT_SCOPES as REQUESTED
    from bot.installs.oauth import REDIRECT_PATH

    assert list(REQUESTED) == manifest["oauth_config"]["scopes"]["bot"]
    assert manifest["oauth_config"]["redirect_urls"] == [REDIRECT_URL, STATUS_REDIRECT_URL]
    assert REDIRECT_URL.endswith(REDIRECT_PATH)
    assert STATUS_REDIRECT_URL.endswith(STATUS_CALLBACK_PATH)


def test_http_mode_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {"request_url": REQUEST_URL, "bot_events": BOT_EVENTS}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": REQUEST_URL}
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    assert settings["org_deploy_enabled"] is False
