"""The ``phonebot`` command: ``serve``, ``console`` and ``check``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, PhonebotConfig, Settings, load_config, parse_config

if TYPE_CHECKING:
    from bot.simulate import SimulatedPhoneSystems

log = logging.getLogger("phonebot")


def _config_path(args: argparse.Namespace, settings: Settings) -> Path | None:
    if args.config:
        return Path(args.config)
    return settings.phonebot_config


def _load(args: argparse.Namespace, settings: Settings) -> PhonebotConfig:
    return load_config(_config_path(args, settings))


def _config_and_simulators(
    args: argparse.Namespace, settings: Settings, *, default_vendor: str = "dstny"
) -> tuple[PhonebotConfig, SimulatedPhoneSystems | None]:
    """With ``--simulate``: start the simulators and configure phonebot for them; else load the file."""
    if not args.simulate:
        return _load(args, settings), None
    from bot.simulate import SimulatedPhoneSystems

    simulators = SimulatedPhoneSystems().start()
    return parse_config(simulators.config(default_vendor=default_vendor), source="simulation"), simulators


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs full URLs at INFO; some vendors accept tokens in query strings.
    logging.getLogger("httpx").setLevel(logging.WARNING)


# -- serve ------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bot.runtime import build_runtime
    from bot.server import build_asgi_app

    config, simulators = _config_and_simulators(args, settings)
    if not settings.slack_signing_secret and not args.socket_mode:
        print("phonebot: SLACK_SIGNING_SECRET is not set; Slack requests cannot be verified.", file=sys.stderr)
        return 2
    runtime = build_runtime(settings, config)
    port = int(args.port or os.environ.get("PORT", "3000"))
    try:
        if args.socket_mode:
            return asyncio.run(_serve_socket_mode(runtime, settings, host=args.host, port=port))
        asgi = build_asgi_app(runtime)
        uvicorn.run(asgi, host=args.host, port=port, log_level="warning", access_log=False)
        return 0
    finally:
        if simulators is not None:
            simulators.stop()


async def _serve_socket_mode(runtime: Any, settings: Settings, *, host: str, port: int) -> int:
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.server import build_asgi_app

    if not settings.slack_app_token:
        print("phonebot: --socket-mode needs SLACK_APP_TOKEN (an xapp- app-level token).", file=sys.stderr)
        return 2
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    # Vendor webhooks, health and metrics still need HTTP; Slack traffic comes over the socket.
    server = uvicorn.Server(
        uvicorn.Config(build_asgi_app(runtime, slack_http=False), host=host, port=port, log_level="warning")
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await server.serve()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
    return 0


# -- console ----------------------------------------------------------------------------------
def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_console(args, settings))


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import Console
    from bot.runtime import build_adapters, build_services
    from bot.slack_users import SlackUser, StaticUserDirectory
    from bot.store import open_store

    config, simulators = _config_and_simulators(args, settings, default_vendor=args.vendor)
    if simulators is not None:
        from bot.simulate import DEMO_SLACK_USERS

        users = list(DEMO_SLACK_USERS)
        wanted = (args.as_user or "alice").lower()
        me = next((u for u in users if u.id.lower() == wanted or (u.email or "").startswith(wanted + "@")), None)
        if me is None:
            simulators.stop()
            print(f"phonebot: no demo user {args.as_user!r}; choose alice, bob or carol.", file=sys.stderr)
            return 2
        store = open_store(None)
    else:
        if not args.as_user or "@" not in args.as_user:
            print("phonebot: without --simulate, pass --as EMAIL (your phone-system email).", file=sys.stderr)
            return 2
        me = SlackUser(id="UCONSOLE", name=args.as_user, email=args.as_user, tz=config.timezone)
        users = [me]
        store = open_store(settings.redis_url)
    if not store.durable:
        print(f"phonebot: using the {store.description}.", file=sys.stderr)
    directory = StaticUserDirectory(users)
    adapters = build_adapters(config)
    services = build_services(config, store=store, adapters=adapters, users=directory)
    console = Console(services=services, user=me, directory=directory, color=sys.stdout.isatty())
    try:
        await console.run(sys.stdin)
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()
        if simulators is not None:
            simulators.stop()
    return 0


# -- check ------------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_check(args, settings))


async def _check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import build_adapters, build_slack_client
    from bot.store import open_store

    config, simulators = _config_and_simulators(args, settings)
    print(f"config: ok ({len(config.vendors)} vendor(s): {', '.join(config.vendors) or 'none'})")
    failures = 0
    store = open_store(settings.redis_url)
    store_ok = await store.ping()
    print(f"store: {'ok' if store_ok else 'UNREACHABLE'} ({store.description})")
    failures += not store_ok
    await store.close()
    if settings.slack_bot_token:
        try:
            auth = await build_slack_client(settings).auth_test()
            print(f"slack: ok (team {auth.get('team')}, bot {auth.get('user')})")
        except Exception as exc:
            print(f"slack: FAILED ({type(exc).__name__}: {getattr(exc, 'response', {}) and exc.response.get('error')})")  # type: ignore[attr-defined]
            failures += 1
    else:
        print("slack: skipped (SLACK_BOT_TOKEN not set)")
    adapters = build_adapters(config)
    try:
        for name, adapter in adapters.items():
            print(f"\n{adapter.display_name} ({name})")
            print(f"  {'capability':<22} {'result':<8} detail")
            for row in await adapter.probe():
                result = {True: "ok", False: "no", None: "declared"}[row.ok]
                if row.ok is False and row.capability in adapter.capabilities:
                    failures += 1
                    result = "FAILED"
                print(f"  {row.capability.value:<22} {result:<8} {row.detail}")
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        if simulators is not None:
            simulators.stop()
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonebot", description="Your phone system, in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the Slack app (HTTP mode by default)")
    serve.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument("--socket-mode", action="store_true", help="receive Slack traffic over Socket Mode")
    serve.add_argument("--simulate", action="store_true", help="use the built-in vendor simulators")
    serve.set_defaults(func=cmd_serve)

    console = sub.add_parser("console", help="type slash commands in the terminal")
    console.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    console.add_argument("--simulate", action="store_true", help="simulated vendors, embedded store, no credentials")
    console.add_argument(
        "--as", dest="as_user", help="demo user (alice, bob, carol) or, without --simulate, your email"
    )
    console.add_argument("--vendor", default="dstny", choices=["dstny", "relatel"], help="simulated vendor to use")
    console.set_defaults(func=cmd_console)

    check = sub.add_parser("check", help="validate config and probe Slack and every vendor")
    check.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    check.add_argument("--simulate", action="store_true", help="probe the built-in simulators")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    setup_logging(settings.phonebot_log_level)
    try:
        result: int = args.func(args, settings)
    except ConfigError as exc:
        print(f"phonebot: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
