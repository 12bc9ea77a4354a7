"""``parse_queue``."""

from __future__ import annotations

import pytest

from handlers.parsing import QueueHelp, QueueLoginCmd, QueueStatusCmd, UsageError, parse_queue


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", QueueStatusCmd(None)),
        ("  ", QueueStatusCmd(None)),
        ("status", QueueStatusCmd(None)),
        ("STATUS", QueueStatusCmd(None)),
        ("show", QueueStatusCmd(None)),
        ("status sales", QueueStatusCmd("sales")),
        ("status customer support", QueueStatusCmd("customer support")),
        ("status  Customer   Support ", QueueStatusCmd("Customer Support")),
        ('status "customer support"', QueueStatusCmd("customer support")),
        ("status \u201ccustomer support\u201d", QueueStatusCmd("customer support")),
        ("status Sales &amp; Support", QueueStatusCmd("Sales & Support")),
        ("login", QueueLoginCmd(None, login=True)),
        ("in", QueueLoginCmd(None, login=True)),
        ("log in", QueueLoginCmd(None, login=True)),
        ("login customer support", QueueLoginCmd("customer support", login=True)),
        ("in sales", QueueLoginCmd("sales", login=True)),
        ("Log In sales", QueueLoginCmd("sales", login=True)),
        ("logout", QueueLoginCmd(None, login=False)),
        ("out", QueueLoginCmd(None, login=False)),
        ("log out", QueueLoginCmd(None, login=False)),
        ("logout customer support", QueueLoginCmd("customer support", login=False)),
        ("out sales", QueueLoginCmd("sales", login=False)),
        ("help", QueueHelp()),
        ("?", QueueHelp()),
    ],
)
def test_commands(text: str, command: object) -> None:
    assert parse_queue(text) == command


def test_unknown_sub_command_lists_the_valid_ones() -> None:
    result = parse_queue("customer support")
    assert isinstance(result, UsageError)
    assert "\u201ccustomer\u201d" in result.message
    for verb in ("status", "login", "logout", "help"):
        assert verb in result.message
    assert result.example == "/queue status customer support"


def test_overlong_group_name() -> None:
    result = parse_queue("login " + "x" * 200)
    assert isinstance(result, UsageError)
    assert result.example == "/queue login sales"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("login <@U0BOB|bob> sales", QueueLoginCmd("sales", login=True, user="U0BOB")),
        ("logout <@U0BOB>", QueueLoginCmd(None, login=False, user="U0BOB")),
        ("log out <@W0GRID|grid> customer support", QueueLoginCmd("customer support", login=False, user="W0GRID")),
        ("status <@U0BOB|bob>", QueueStatusCmd(None, user="U0BOB")),
        ("<@U0BOB|bob>", QueueStatusCmd(None, user="U0BOB")),
        ("<@U0BOB|bob> sales", QueueStatusCmd("sales", user="U0BOB")),
    ],
)
def test_a_mention_after_the_verb_names_whose_queues(text: str, command: object) -> None:
    assert parse_queue(text) == command


@pytest.mark.parametrize("text", ["login sales <@U0BOB|bob>", "logout <@U0BOB> <@U0CAROL>"])
def test_a_mention_anywhere_else_is_a_usage_error(text: str) -> None:
    result = parse_queue(text)
    assert isinstance(result, UsageError)
    assert result.example.startswith("/queue ") and "@alice" in result.example
