"""The ``phonebot`` command: ``serve``, ``console``, ``check``, ``alerts …`` and ``webhooks sync|prune|url``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from adapters.redaction import SECRETS
from bot.config import ConfigError, PhonebotConfig, Settings, load_config, parse_config
from bot.logs import setup_logging

if TYPE_CHECKING:
    from adapters.base import VendorAdapter
    from bot.alerts.service import AlertService
    from bot.simulate import SimulatedPhoneSystems
    from bot.store import RedisStore, Store

log = logging.getLogger("phonebot")

#: ``serve --simulate`` without Slack credentials: Bolt needs some token, and nothing may reach slack.com.
NO_SLACK_TOKEN = "xoxb-phonebot-simulation-without-slack"
NO_SLACK_API_URL = "http://127.0.0.1:9/api/"  # the discard port: refused at once


def _config_path(args: argparse.Namespace, settings: Settings) -> Path | None:
    if args.config:
        return Path(args.config)
    return settings.phonebot_config


def _load(args: argparse.Namespace, settings: Settings) -> PhonebotConfig:
    return load_config(_config_path(args, settings))


def _config_and_simulators(
    args: argparse.Namespace, settings: Settings, *, default_vendor: str = "dstny", alerts: bool = False
) -> tuple[PhonebotConfig, SimulatedPhoneSystems | None]:
    """With ``--simulate``: start the simulators and configure phonebot for them; else load the file.

    ``alerts``: route the simulation's alerts to one channel and poll quickly (the console and ``serve``).
    """
    if not args.simulate:
        return _load(args, settings), None
    from bot.simulate import SimulatedPhoneSystems

    simulators = SimulatedPhoneSystems().start()
    raw = simulators.config(default_vendor=default_vendor)
    if alerts:
        from bot.console_alerts import alert_config

        raw["alerts"] = alert_config(default_vendor)
    return parse_config(raw, source="simulation"), simulators


# -- serve ------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bot.http_limits import limits_from
    from bot.http_server import uvicorn_options
    from bot.preflight import EMBEDDED_WARNING, alert_destination, redis_unreachable, slack_refusal, store_refusal
    from bot.runtime import build_runtime
    from bot.server import build_asgi_app

    refusal = store_refusal(settings, simulate=args.simulate, embedded_store=args.embedded_store)
    if refusal is not None:
        print(f"phonebot: {refusal}", file=sys.stderr)
        return 2
    if not settings.slack_signing_secret and not args.socket_mode and not args.simulate:
        print("phonebot: SLACK_SIGNING_SECRET is not set; Slack requests cannot be verified.", file=sys.stderr)
        return 2
    unreachable = redis_unreachable(settings.redis_url)
    if unreachable is not None:
        print(f"phonebot: {unreachable}", file=sys.stderr)
        return 1
    refusal = slack_refusal(settings, simulate=args.simulate)
    if refusal is not None:
        print(f"phonebot: {refusal}", file=sys.stderr)
        return 2
    # Simulating without Slack: the simulators' alerts go to a local sink that writes them to this log.
    local_alerts = args.simulate and settings.slack_bot_token is None and not settings.oauth
    config, simulators = _config_and_simulators(args, settings, alerts=local_alerts)
    sink = None
    try:
        if not settings.redis_url and not args.simulate:
            log.warning(EMBEDDED_WARNING)
        if args.simulate and not settings.slack_signing_secret and not args.socket_mode:
            log.warning("SLACK_SIGNING_SECRET is not set: /slack/events refuses every request (401)")
            # A secret nobody knows: Bolt verifies against it, so every request is refused, none slips in.
            settings = settings.model_copy(update={"slack_signing_secret": SecretStr(secrets.token_hex(32))})
        if not config.vendors:
            log.warning("no vendors configured: /readyz answers 503 until the config has a vendors: section")
        if local_alerts:
            from bot.alerts.local_slack import LocalSlack
            from bot.console_alerts import CONSOLE_CHANNEL, log_write

            sink = LocalSlack(log_write).start()
            log.info(
                "alerts: no SLACK_BOT_TOKEN, so the simulators' alerts for %s are written to this log "
                "(lines starting 'alert in %s')",
                CONSOLE_CHANNEL,
                CONSOLE_CHANNEL,
            )
        else:
            log.info(alert_destination(settings, config))
        if settings.oauth:
            log.info('"Add to Slack" is on: install page %s, redirect URL %s', *_oauth_urls(settings))
        elif args.simulate and settings.slack_bot_token is None:
            log.warning(
                "no SLACK_BOT_TOKEN: simulating without Slack; Slack Web API calls go to %s and fail, "
                "/readyz reports slack not ready",
                NO_SLACK_API_URL,
            )
            settings = settings.model_copy(
                update={"slack_bot_token": SecretStr(NO_SLACK_TOKEN), "slack_api_url": NO_SLACK_API_URL}
            )
        runtime = build_runtime(settings, config, alert_slack_url=sink.api_url if sink is not None else None)
        port = int(args.port or os.environ.get("PORT", "3000"))
        if args.socket_mode:
            return asyncio.run(_serve_socket_mode(runtime, settings, host=args.host, port=port))
        asgi = build_asgi_app(runtime)
        log.info("listening on http://%s:%d (Slack: POST /slack/events)", args.host, port)
        limits = uvicorn_options(limits_from(settings))
        uvicorn.run(asgi, host=args.host, port=port, log_level="warning", access_log=False, **limits)
        return 0
    finally:
        if sink is not None:
            sink.stop()
        if simulators is not None:
            simulators.stop()


def _oauth_urls(settings: Settings) -> tuple[str, str]:
    from bot.installs.oauth import INSTALL_PATH, REDIRECT_PATH

    base = (settings.phonebot_public_url or "https://<public host>").rstrip("/")
    return base + INSTALL_PATH, base + REDIRECT_PATH


async def _serve_socket_mode(runtime: Any, settings: Settings, *, host: str, port: int) -> int:
    import uvicorn
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.http_limits import limits_from
    from bot.http_server import uvicorn_options
    from bot.server import build_asgi_app

    if not settings.slack_app_token:
        print("phonebot: --socket-mode needs SLACK_APP_TOKEN (an xapp- app-level token).", file=sys.stderr)
        return 2
    handler = AsyncSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    log.info("listening on http://%s:%d (Slack traffic over Socket Mode)", host, port)
    # Vendor webhooks, health and metrics still need HTTP; Slack traffic comes over the socket.
    asgi = build_asgi_app(runtime, slack_http=False)
    limits = uvicorn_options(limits_from(settings))
    server = uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, log_level="warning", **limits))
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

    config, simulators = _config_and_simulators(args, settings, default_vendor=args.vendor, alerts=True)
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
    alerts = None
    if simulators is not None:
        alerts = await _console_alerts(console, settings, config, store, adapters, simulators, vendor=args.vendor)
    try:
        await console.run(sys.stdin)
    finally:
        if alerts is not None:
            await alerts.stop()
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()
        if simulators is not None:
            simulators.stop()
    return 0


async def _console_alerts(
    console: Any,
    settings: Settings,
    config: PhonebotConfig,
    store: RedisStore,
    adapters: dict[str, VendorAdapter],
    simulators: SimulatedPhoneSystems,
    *,
    vendor: str,
) -> Any:
    """The real alert pipeline on the console's store, posting to a local sink the console prints."""
    from bot.alerts.service import AlertService
    from bot.console_alerts import ConsoleAlerts
    from bot.webhooks import WebhookRouter
    from handlers.alert_actions import AlertActions

    local = settings.model_copy(update={"slack_bot_token": SecretStr(NO_SLACK_TOKEN), "phonebot_public_url": None})
    feed = ConsoleAlerts(simulators, vendor=vendor, show=console.show_alert)
    feed.sink.start()
    service = AlertService(local, config, store, store.client, adapters, feed.sink.api_url)
    console.services.alert_queue = service.queue
    feed.attach(service, AlertActions(console.services, service.queue))
    console.alerts = feed
    await feed.start()
    await service.start(WebhookRouter())
    return feed


# -- check ------------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_check(args, settings))


async def _check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.preflight import admin_summary
    from bot.runtime import build_adapters, build_slack_client
    from bot.store import open_store

    if not args.simulate and _config_path(args, settings) is None:
        print(
            "config: MISSING: pass --config FILE or set PHONEBOT_CONFIG to the YAML file that names your "
            "vendors (see the README, Configuration); or try phonebot check --simulate"
        )
        return 2
    config, simulators = _config_and_simulators(args, settings)
    failures = 0
    if config.vendors:
        print(f"config: ok ({len(config.vendors)} vendor(s): {', '.join(config.vendors)})")
    else:
        print(f"config: NO VENDORS: {_config_path(args, settings)} has no vendors: section, so phonebot can do nothing")
        failures += 1
    print(admin_summary(config))
    store = open_store(settings.redis_url)
    store_ok = await store.ping()
    print(f"store: {'ok' if store_ok else 'UNREACHABLE'} ({store.description})")
    failures += not store_ok
    if settings.slack_bot_token:
        try:
            auth = await build_slack_client(settings).auth_test()
            print(f"slack: ok (team {auth.get('team')}, bot {auth.get('user')})")
        except Exception as exc:
            print(f"slack: FAILED ({type(exc).__name__}: {getattr(exc, 'response', {}) and exc.response.get('error')})")  # type: ignore[attr-defined]
            failures += 1
    else:
        print("slack: skipped (SLACK_BOT_TOKEN not set)")
    if settings.oauth and store_ok:
        line, failed = await _alert_workspace(settings, config, store)
        print(line)
        failures += failed
    adapters = build_adapters(config)
    try:
        for name, adapter in adapters.items():
            print(f"\n{adapter.display_name} ({name})")
            for line in overridden_paths(adapter):
                print(f"  {line}")
            print(f"  {'capability':<22} {'result':<8} detail")
            for row in await adapter.probe():
                result = {True: "ok", False: "no", None: "declared"}[row.ok]
                if row.ok is False and row.capability in adapter.capabilities:
                    failures += 1
                    result = "FAILED"
                print(f"  {row.capability.value:<22} {result:<8} {row.detail}")
            if args.writes:
                failures += await _print_writes(adapter)
            backlog = await _poll_backlog(store, adapter) if store_ok else None
            if backlog is not None:
                print(f"  {'alerts.backlog':<22} {'WARNING':<8} {backlog}")
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()
        if simulators is not None:
            simulators.stop()
    return 1 if failures else 0


async def _alert_workspace(settings: Settings, config: PhonebotConfig, store: RedisStore) -> tuple[str, bool]:
    """``phonebot check`` with "Add to Slack": the installation alerts are posted with, or why there is none."""
    from bot.alerts.slack_token import AlertWorkspace
    from bot.installs.directory import InstalledWorkspaces
    from bot.installs.records import StoreInstallationStore
    from bot.runtime import build_slack_client
    from bot.secret_box import SecretBox, SecretKeyError

    routed = bool(config.alerts.routes)
    if settings.phonebot_secret_key is None:
        return "alerts: NOT CHECKED: PHONEBOT_SECRET_KEY is not set, so no installation can be read", True
    try:
        box = SecretBox.from_setting(settings.phonebot_secret_key)
    except SecretKeyError as exc:
        return f"alerts: NOT CHECKED: {exc}", True
    workspace = AlertWorkspace(InstalledWorkspaces(StoreInstallationStore(store, box)), team_id=settings.slack_team_id)
    problem = await workspace.problem()
    key = await workspace.current_key()
    if problem is not None or key is None:
        if not routed:
            return f"alerts: no alerts.routes configured (and {problem})", False
        return f"alerts: NOT POSTED: {problem}", True
    with_token = settings.model_copy(update={"slack_bot_token": SecretStr(await workspace.token())})
    try:
        auth = await build_slack_client(with_token).auth_test()
    except Exception as exc:
        error = getattr(exc, "response", {}) and exc.response.get("error")  # type: ignore[attr-defined]
        return f"alerts: posted in {key.describe()}, whose token Slack refused ({type(exc).__name__}: {error})", True
    return f"alerts: ok (posted in {key.describe()}: team {auth.get('team')}, bot {auth.get('user')})", False


async def _print_writes(adapter: VendorAdapter) -> int:
    """Try the adapter's reversible writes (``check --writes``); returns how many failed."""
    from bot.write_probe import probe_writes

    rows = await probe_writes(adapter)
    print("  writes (reversible, as the service user; nothing that rings or sends is tried)")
    if not rows:
        print("  (none: this vendor has no reversible writes)")
    for row in rows:
        print(f"  {row.operation:<22} {row.outcome:<8} {row.detail}")
    return sum(row.failed for row in rows)


def overridden_paths(adapter: VendorAdapter) -> list[str]:
    """One line per vendor path the config overrides, for ``phonebot check``."""
    return [
        f"path {operation}: {endpoint.method} {endpoint.path} (config; {endpoint.note})"
        for operation, endpoint in sorted(adapter.operation_paths().items())
        if endpoint.source == "config"
    ]


async def _poll_backlog(store: RedisStore, adapter: VendorAdapter) -> str | None:
    """What the adapter's saved poll cursor has not read yet (a round hit its page limit), if anything."""
    import json

    from adapters.models import Capability
    from bot.alerts.poller import cursor_key

    if not adapter.supports(Capability.ALERT_POLLING):
        return None
    raw = await store.get(cursor_key(adapter.name))
    if raw is None:
        return None
    try:
        cursor = json.loads(raw)
    except ValueError:
        return None
    return adapter.poll_backlog(cursor if isinstance(cursor, dict) else None)


# -- alerts / webhooks -------------------------------------------------------------------------
def cmd_alerts_dead(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_alerts_dead(args, settings))


async def _alerts_dead(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from bot.alerts.queue import AlertQueue
    from bot.store import open_store

    if not settings.redis_url:
        print("phonebot: REDIS_URL is not set; dead letters live in the Redis phonebot serves from.", file=sys.stderr)
        return 2
    store = open_store(settings.redis_url)
    if not await store.ping():
        await store.close()
        print(f"phonebot: {store.description} is unreachable; dead letters live there.", file=sys.stderr)
        return 1
    queue = AlertQueue(store.client)
    try:
        letters = await queue.dead_letters()
        if args.replay or args.replay_all:
            wanted = {letter.id for letter in letters} if args.replay_all else set(args.replay)
            missing = wanted - {letter.id for letter in letters}
            for entry_id in sorted(wanted - missing):
                await queue.replay(entry_id)
                print(f"replaying {entry_id}")
            for entry_id in sorted(missing):
                print(f"phonebot: no dead letter {entry_id}", file=sys.stderr)
            return 1 if missing else 0
        if not letters:
            print("no dead letters: every alert was delivered")
            return 0
        for letter in letters:
            when = datetime.fromtimestamp(letter.parked_at, UTC).isoformat(timespec="seconds")
            what = letter.event.kind.value if letter.event else "re-sync"
            print(f"{letter.id}  {when}  {letter.subject_key}  {what}  {letter.reason}")
        print(f"{len(letters)} dead letter(s); replay with: phonebot alerts dead --replay ID (or --replay-all)")
        return 0
    finally:
        await store.close()


def cmd_alerts_revoke_listen(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_alerts_revoke_listen(args, settings))


async def _alerts_revoke_listen(args: argparse.Namespace, settings: Settings) -> int:
    from bot.alerts.listen import revoke_all_links, revoke_link
    from bot.store import open_store

    if not settings.redis_url:
        print("phonebot: REDIS_URL is not set; revocations live in the Redis phonebot serves from.", file=sys.stderr)
        return 2
    config = _load(args, settings)
    store = open_store(settings.redis_url)
    try:
        if args.voicemail:
            vendor, _, voicemail_id = args.voicemail.partition(":")
            if not vendor or not voicemail_id:
                print("phonebot: --voicemail takes vendor:id, e.g. relatel:502", file=sys.stderr)
                return 2
            lifetime = config.alerts.listen_link_days * 24 * 3600
            await revoke_link(store, vendor, voicemail_id, lifetime_seconds=lifetime)
            print(f"revoked every Listen link to {vendor} voicemail {voicemail_id}")
        else:
            await revoke_all_links(store)
            print("revoked every Listen link issued so far; new alerts get new links")
        return 0
    finally:
        await store.close()


def cmd_webhooks_sync(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_webhooks_sync(args, settings))


@contextlib.asynccontextmanager
async def _webhook_service(args: argparse.Namespace, settings: Settings) -> AsyncIterator[tuple[AlertService, Store]]:
    """The alert service ``webhooks sync|prune`` work through, closed (adapters, store, simulators) after."""
    from bot.alerts.service import AlertService
    from bot.runtime import DEFAULT_SLACK_API_URL, build_adapters
    from bot.store import open_store

    config, simulators = _config_and_simulators(args, settings)
    store = open_store(settings.redis_url)
    adapters = build_adapters(config)
    try:
        yield AlertService(settings, config, store, store.client, adapters, DEFAULT_SLACK_API_URL), store
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()
        if simulators is not None:
            simulators.stop()


def _print_summaries(results: dict[str, str], none: str) -> int:
    """One line per vendor; exit status 1 when any vendor failed."""
    for vendor, summary in results.items():
        print(f"{vendor}: {summary}")
    if not results:
        print(none)
    return 1 if any(summary.startswith("failed") for summary in results.values()) else 0


async def _webhooks_sync(args: argparse.Namespace, settings: Settings) -> int:
    public_url = args.public_url or settings.phonebot_public_url
    if not public_url:
        print("phonebot: pass --public-url or set PHONEBOT_PUBLIC_URL (where vendors reach phonebot).", file=sys.stderr)
        return 2
    async with _webhook_service(args, settings) as (service, _):
        results = await service.sync_webhooks(public_url)
        return _print_summaries(
            results, "no configured vendor registers webhooks through its API (see the README for manual setup)"
        )


def cmd_webhooks_prune(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_webhooks_prune(args, settings))


async def _webhooks_prune(args: argparse.Namespace, settings: Settings) -> int:
    public_url = args.public_url or settings.phonebot_public_url
    if not public_url and not args.all:
        print(
            "phonebot: pass --public-url or set PHONEBOT_PUBLIC_URL (phonebot keeps the subscriptions for that "
            "URL and removes its others), or --all to remove every subscription phonebot made.",
            file=sys.stderr,
        )
        return 2
    async with _webhook_service(args, settings) as (service, store):
        results = await service.prune_webhooks(public_url or "https://unused.invalid", everything=args.all)
        status = _print_summaries(results, "no configured vendor has webhooks phonebot registered through its API")
        if not store.durable:
            print(
                "phonebot: note: without REDIS_URL phonebot keeps no record of the webhooks it made, so there is "
                "nothing to prune; delete them in the vendor's panel.",
                file=sys.stderr,
            )
        return status


def cmd_webhooks_url(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_webhooks_url(args, settings))


async def _webhooks_url(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.registry import ADAPTERS, adapter_class
    from bot.alerts.pipelines import key_of_path_id, path_id
    from bot.store import ScopedStore, open_store
    from bot.webhook_auth import UrlTokens

    public_url = (args.public_url or settings.phonebot_public_url or "https://<public-url>").rstrip("/")
    if args.vendor not in ADAPTERS:
        print(f"phonebot: unknown vendor {args.vendor!r}; known: {', '.join(sorted(ADAPTERS))}", file=sys.stderr)
        return 2
    scope = ""
    if args.team:  # "Add to Slack": a workspace's own vendors call its own URLs, under its own secret
        team = key_of_path_id(args.team)
        if team is None:
            print(f"phonebot: --team {args.team[:40]!r} is not a team id (T…), E…-T… or E…", file=sys.stderr)
            return 2
        public_url, scope = f"{public_url}/w/{path_id(team)}", team.data_prefix
    elif settings.oauth:
        print(
            'phonebot: note: with "Add to Slack" this URL is for the vendors of the config file; for a vendor a '
            "workspace set up in Slack pass --team <its team id>.",
            file=sys.stderr,
        )
    if adapter_class(args.vendor).webhook_auth == "signature":
        print(f"{public_url}/webhooks/{args.vendor}")
        print(
            f"phonebot: note: {args.vendor} signs its webhooks, so the URL carries no token; put the signing "
            f"secret the vendor shows in vendors.{args.vendor}.webhook_secret.",
            file=sys.stderr,
        )
        return 0
    store = open_store(settings.redis_url)
    try:
        secret = settings.phonebot_webhook_secret
        scoped = ScopedStore.of(store, scope)
        tokens = await UrlTokens.load(scoped, secret.get_secret_value() if secret else None, scope=scope)
        try:
            token = tokens.token_for(args.vendor, args.resource)
        except ValueError as exc:
            print(f"phonebot: {exc}", file=sys.stderr)
            return 2
        events = adapter_class(args.vendor).manual_webhook_events(include_call_events=args.call_events)
        for event in events or ("",):  # one URL per event when the vendor's path carries the event
            print(f"{public_url}/webhooks/{args.vendor}/{token}" + (f"/{event}" if event else ""))
        if events:
            print(
                f"phonebot: note: {len(events)} URLs, one per {adapter_class(args.vendor).display_name} webhook "
                "event: paste each as the webhook of the event its path ends with (Mobili Stotele panel: "
                "API \u2192 WEB HOOKS). `phonebot webhooks sync` registers them for you through the API.",
                file=sys.stderr,
            )
        if not store.durable and not secret:
            print(
                "phonebot: note: without REDIS_URL or PHONEBOT_WEBHOOK_SECRET this URL changes every run.",
                file=sys.stderr,
            )
        return 0
    finally:
        await store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonebot", description="Your phone system, in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the Slack app (HTTP mode by default)")
    serve.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 3000")
    serve.add_argument("--socket-mode", action="store_true", help="receive Slack traffic over Socket Mode")
    serve.add_argument(
        "--simulate", action="store_true", help="use the built-in vendor simulators (no Slack token needed)"
    )
    serve.add_argument(
        "--embedded-store",
        action="store_true",
        help="run without REDIS_URL on an in-process store: not durable, needs PHONEBOT_WEBHOOK_SECRET",
    )
    serve.set_defaults(func=cmd_serve)

    console = sub.add_parser("console", help="type slash commands in the terminal")
    console.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    console.add_argument("--simulate", action="store_true", help="simulated vendors, embedded store, no credentials")
    console.add_argument(
        "--as", dest="as_user", help="demo user (alice, bob, carol) or, without --simulate, your email"
    )
    console.add_argument(
        "--vendor", default="dstny", choices=["dstny", "relatel", "tele2"], help="simulated vendor to use"
    )
    console.set_defaults(func=cmd_console)

    check = sub.add_parser("check", help="validate config and probe Slack and every vendor")
    check.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    check.add_argument("--simulate", action="store_true", help="probe the built-in simulators")
    check.add_argument(
        "--writes",
        action="store_true",
        help="also try each reversible write (presence, queue login) as the service user and restore it",
    )
    check.set_defaults(func=cmd_check)

    alerts = sub.add_parser("alerts", help="inspect the alert pipeline").add_subparsers(dest="alerts", required=True)
    dead = alerts.add_parser("dead", help="show alerts Slack never accepted; --replay sends them again")
    dead.add_argument("--replay", nargs="+", metavar="ID", default=[], help="replay these dead letters")
    dead.add_argument("--replay-all", action="store_true", help="replay every dead letter")
    dead.set_defaults(func=cmd_alerts_dead)
    revoke = alerts.add_parser("revoke-listen", help="make voicemail Listen links stop working")
    revoke.add_argument("--voicemail", metavar="VENDOR:ID", help="only the links to this voicemail")
    revoke.set_defaults(func=cmd_alerts_revoke_listen)

    hooks = sub.add_parser("webhooks", help="vendor webhooks").add_subparsers(dest="webhooks", required=True)
    sync = hooks.add_parser("sync", help="register phonebot's webhooks with vendors that have an API for it")
    sync.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    sync.add_argument("--public-url", help="where vendors reach phonebot (default: $PHONEBOT_PUBLIC_URL)")
    sync.add_argument("--simulate", action="store_true", help="register with the built-in simulators")
    sync.set_defaults(func=cmd_webhooks_sync)
    prune = hooks.add_parser("prune", help="remove phonebot's own stale webhook subscriptions (by their stored ids)")
    prune.add_argument("--config", help="YAML config file (default: $PHONEBOT_CONFIG)")
    prune.add_argument("--public-url", help="the current public URL, whose subscriptions are kept")
    prune.add_argument("--all", action="store_true", help="remove every subscription phonebot made, current ones too")
    prune.add_argument("--simulate", action="store_true", help="prune at the built-in simulators")
    prune.set_defaults(func=cmd_webhooks_prune)
    url = hooks.add_parser(
        "url", help="print the secret webhook URL(s) for a vendor resource (manual setup; Tele2: one per event)"
    )
    url.add_argument("vendor")
    url.add_argument("resource", nargs="?", default="account", help="e.g. account, rsvp-42 (default: account)")
    url.add_argument("--public-url", help="where vendors reach phonebot (default: $PHONEBOT_PUBLIC_URL)")
    url.add_argument(
        "--call-events", action="store_true", help="Tele2: also the call events (for routes that ask for `call`)"
    )
    url.add_argument("--team", help='"Add to Slack": the workspace (T123; E1-T2 in an org) whose own vendor it is')
    url.set_defaults(func=cmd_webhooks_url)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    SECRETS.add_from(settings)
    setup_logging(settings.phonebot_log_level, settings.phonebot_log_format)
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
