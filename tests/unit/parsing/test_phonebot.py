"""``parse_phonebot`` and the help texts."""

from __future__ import annotations

import pytest

from handlers.parsing import (
    HELP,
    DeadLetters,
    Help,
    Replay,
    UsageError,
    WhoAmI,
    activities_sentence,
    help_text,
    parse_phonebot,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help(None)),
        ("help", Help(None)),
        ("HELP", Help(None)),
        ("?", Help(None)),
        ("help presence", Help("presence")),
        ("help /presence", Help("presence")),
        ("help Call", Help("call")),
        ("help queue", Help("queue")),
        ("help phonebot", Help("phonebot")),
        ("whoami", WhoAmI()),
        ("me", WhoAmI()),
        ("WhoAmI", WhoAmI()),
        ("dead", DeadLetters()),
        ("replay all", Replay(every=True)),
        ("replay ALL", Replay(every=True)),
        ("replay 1733100000000-0", Replay(ids=("1733100000000-0",))),
        ("replay 1-0 2-1 1-0", Replay(ids=("1-0", "2-1"))),
    ],
)
def test_commands(text: str, command: object) -> None:
    assert parse_phonebot(text) == command


@pytest.mark.parametrize(
    ("text", "fragment", "example"),
    [
        ("dance", "/phonebot help", "/phonebot help"),
        ("help dance", "Topics: call, phonebot, presence, queue", "/phonebot help presence"),
        ("whoami now", "takes nothing after it", "/phonebot whoami"),
        ("dead letters", "takes nothing after it", "/phonebot dead"),
        ("replay", "Give their ids", "/phonebot replay 1733100000000-0"),
        ("replay <!channel>", "isn't a dead letter id", "/phonebot replay 1733100000000-0"),
        ("replay all 1-0", "isn't a dead letter id", "/phonebot replay 1733100000000-0"),
        ("replay " + " ".join(f"{n}-0" for n in range(51)), "At most 50", "/phonebot replay all"),
    ],
)
def test_usage_errors(text: str, fragment: str, example: str) -> None:
    result = parse_phonebot(text)
    assert isinstance(result, UsageError)
    assert fragment in result.message
    assert result.example == example


def test_every_help_topic_is_about_its_command() -> None:
    assert set(HELP) == {"presence", "call", "queue", "phonebot"}
    for topic, text in HELP.items():
        assert f"/{topic}" in text


@pytest.mark.parametrize(
    ("topic", "forms"),
    [
        (
            "presence",
            [
                "/presence lunch 45m",
                "/presence lunch 45 min",
                "/presence meeting for 1h30",
                "/presence meeting 1h 30m",
                "/presence away until 14:00",
                "/presence out until tomorrow 9am",
                "/presence vacation until friday",
                "/presence dnd 2 hours",
                "/presence dnd`",
                "/presence busy for 90 minutes",
                "/presence sick until monday",
                "/presence meeting until 2:30pm",
                "/presence @alice",
                "/presence back",
            ],
        ),
        ("call", ["/call +45 71 99 99 99", "/call 71999999", "/call @alice", "/call Acme"]),
        ("queue", ["/queue status", "/queue status customer support", "/queue login", "/queue logout"]),
        ("phonebot", ["/phonebot help", "/phonebot help presence", "/phonebot whoami"]),
    ],
)
def test_help_lists_every_form(topic: str, forms: list[str]) -> None:
    for form in forms:
        assert form in HELP[topic], form


def test_help_text() -> None:
    assert help_text("call") == HELP["call"]
    assert help_text(" /Presence ") == help_text("presence")
    assert "{activities}" not in help_text("presence") and "this help lists yours" in help_text("presence")
    relatel = activities_sentence("Relatel", settable=True, named=None)
    assert relatel.startswith("Activities on Relatel: *dnd* only")
    assert relatel in help_text("presence", activities=relatel)
    dstny = activities_sentence("Dstny", settable=True, named=["Lunch", "Out"])
    assert dstny == "Your activities on Dstny: Lunch, Out."
    assert "no phone presence" in activities_sentence("Tele2", settable=False, named=None)
    overview = help_text(None)
    assert overview not in HELP.values()
    for command in ("/presence", "/call", "/queue", "/phonebot"):
        assert command in overview
    assert help_text("nonsense") == overview
