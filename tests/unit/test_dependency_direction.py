"""``bot/`` does not import ``handlers/`` (issue 13 point 12), except where the app is wired together.

Handlers translate Slack requests into calls of ``bot/`` services; a ``bot/`` module that imports a handler
turns that around. The allow-list is the wiring: the runtime and server build the Bolt app from the handlers,
the console (``console.py``, and ``console_alerts.py`` for its alert buttons) runs the handlers in a terminal,
the CLI entry point (``cli.py``) starts either, and the command runner answers a queued slash command with the
same handler the acking process would have used.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"

WIRING = frozenset(
    {
        "bot/runtime.py",
        "bot/server.py",
        "bot/console.py",
        "bot/console_alerts.py",
        "bot/cli.py",
        "bot/commands/runner.py",
    }
)


def handler_imports(source: str) -> list[str]:
    """The ``handlers`` modules a module's source imports (at any depth: inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name == "handlers" or name.startswith("handlers.")]
    return found


def test_the_scan_sees_every_form_of_import() -> None:
    source = "import handlers.call\nfrom handlers import reply\ndef f():\n    from handlers.context import Services\n"
    assert handler_imports(source) == ["handlers.call", "handlers", "handlers.context"]
    assert handler_imports("from bot.alerts.view import render\nimport handlersx\n") == []


def test_bot_imports_handlers_only_where_the_app_is_wired() -> None:
    offenders = {}
    for path in sorted(BOT.rglob("*.py")):
        name = path.relative_to(BOT.parent).as_posix()
        imported = handler_imports(path.read_text(encoding="utf-8"))
        if imported and name not in WIRING:
            offenders[name] = imported
    assert offenders == {}


def test_the_allow_list_names_real_modules() -> None:
    for name in WIRING:
        assert (BOT.parent / name).is_file(), name
