"""Configuration: secrets from the environment, everything else from one YAML file.

Environment (see README "Configuration"): ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``,
``SLACK_APP_TOKEN``, ``SLACK_API_URL``, ``SLACK_CLIENT_ID`` / ``SLACK_CLIENT_SECRET`` /
``PHONEBOT_SECRET_KEY`` ("Add to Slack"), ``REDIS_URL``, ``PHONEBOT_CONFIG`` and the vendor
credentials the YAML file refers to as ``${VAR}`` (``${VAR:-default}`` gives a default).

Errors name the file, the field and the problem::

    phonebot.yml: vendors.dstny.domain: Field required
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.base import AdapterConfig
from adapters.models import UserTokens
from adapters.path_overrides import PathOverrideError
from adapters.registry import ADAPTERS, adapter_class, parse_adapter_config


class ConfigError(Exception):
    """The configuration is unusable; the message says where and why."""


class Settings(BaseSettings):
    """Process settings and secrets, read from the environment only."""

    # An empty variable counts as unset (compose files pass ``${VAR:-}`` for what the operator left out).
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", env_ignore_empty=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    #: The workspace and app this deployment serves; unset → asked of Slack (auth.test, bots.info).
    slack_team_id: str | None = None
    slack_app_id: str | None = None
    #: "Add to Slack" (OAuth v2): both set → phonebot serves every workspace installed through
    #: ``/slack/install``, each with its own bot token (see ``bot.installs``).
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    #: Where the installer's browser is sent to approve the install (tests point it at a fake Slack).
    slack_authorize_url: str | None = None
    #: Fernet key(s), comma-separated (the first encrypts): encrypt the tokens kept in the store.
    phonebot_secret_key: SecretStr | None = None
    redis_url: str | None = None
    #: Redis connections for commands and buttons; beyond it callers wait (``redis_pool_timeout_seconds``).
    redis_max_connections: int = Field(default=50, ge=1, le=10_000)
    #: Redis connections of the alert pipeline (webhook intake, worker, poller), a pool of its own.
    redis_alerts_max_connections: int = Field(default=50, ge=2, le=10_000)
    #: "Add to Slack": workspace alert pipelines one process runs at most (each holds a Redis connection).
    phonebot_max_alert_workspaces: int = Field(default=200, ge=1, le=5_000)
    #: Seconds a Redis call waits for a free pooled connection before it fails.
    redis_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    phonebot_config: Path | None = None
    phonebot_log_level: str = "INFO"
    #: ``text`` (default, for humans) or ``json`` (one object per line, with team/vendor/subject/request id).
    phonebot_log_format: Literal["text", "json"] = "text"
    #: The address vendors reach phonebot at (``https://phonebot.example.com``), for webhook URLs.
    phonebot_public_url: str | None = None
    #: Keys the secret webhook URL tokens; unset → generated once and kept in the store.
    phonebot_webhook_secret: SecretStr | None = None
    #: HTTP bounds (see bot/http_limits.py and bot/http_server.py).
    phonebot_http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    phonebot_http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    phonebot_http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    phonebot_http_max_connections: int | None = Field(default=None, ge=16)
    #: With Redis: child processes ``serve`` starts to do slash commands' work after the ack (see
    #: bot/commands); 0 → the serving process does it itself, still through the durable queue.
    phonebot_command_workers: int = Field(default=1, ge=0, le=32)
    #: How much lower the workers' CPU priority is (``nice``): under a burst, acks come first.
    phonebot_command_worker_nice: int = Field(default=10, ge=0, le=19)
    #: How often the serving process looks for Slack statuses phonebot set that have ended (to put people's own back).
    phonebot_status_restore_seconds: float = Field(default=15.0, gt=0, le=3600)
    #: A person's App Home is published again at most once per this many seconds when what it shows changes.
    phonebot_home_refresh_seconds: float = Field(default=3.0, gt=0, le=300)
    #: How often phone presence is read for people whose Slack status follows it (changes made in the phone app).
    phonebot_presence_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: Seconds between phonebot's Slack status writes in one workspace (1.5: 40 a minute, Tier 3 is 50+).
    phonebot_status_write_seconds: float = Field(default=1.5, ge=0, le=60)

    @property
    def oauth(self) -> bool:
        """ "Add to Slack" mode: ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` are both set."""
        return bool(self.slack_client_id and self.slack_client_secret)


class UserMapping(BaseModel):
    """An explicit link from a Slack user to a vendor identity.

    Match by ``slack`` (user id) or ``email``; ``vendor_user`` is the vendor's id for the
    person (omit it to look the email up in the vendor directory); ``token`` is the
    person's own vendor credential where the vendor acts as the token owner (Relatel);
    ``dial_device`` limits which of their devices ``/call`` rings, where the vendor offers
    that (Relatel ``restrict_to``: ``mobile`` or ``web_call``; empty = every device).
    """

    model_config = ConfigDict(extra="forbid")

    slack: str | None = None
    email: str | None = None
    vendor: str | None = None
    vendor_user: str | None = None
    token: SecretStr | None = None
    dial_device: str | None = None

    @field_validator("dial_device")
    @classmethod
    def _empty_is_every_device(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _needs_a_key(self) -> UserMapping:
        if not self.slack and not self.email:
            raise ValueError("a user mapping needs `slack` (a Slack user id) or `email`")
        return self


class IdentitySettings(BaseModel):
    """How Slack users are matched to vendor users."""

    model_config = ConfigDict(extra="forbid")

    match_by_email: bool = True
    cache_seconds: int = Field(default=3600, ge=0)


_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_SLACK_GROUP_ID = re.compile(r"S[A-Z0-9]{2,30}")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class QuietHours(BaseModel):
    """A daily window in which a route holds its alerts back and posts one digest when it ends."""

    model_config = ConfigDict(extra="forbid")

    start: str  # "22:00"
    end: str  # "07:00" (may be before start: the window crosses midnight)
    timezone: str | None = None  # default: the config's timezone
    days: list[str] = Field(default_factory=lambda: list(_WEEKDAYS))  # days on which the window starts

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time like 07:30")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [day.strip().lower()[:3] for day in value]
        unknown = [day for day in days if day not in _WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use mon, tue, wed, thu, fri, sat, sun")
        return days

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value


AlertFamily = Literal["lost_call", "voicemail", "queue", "call", "notification"]


def _default_families() -> list[AlertFamily]:
    return ["lost_call", "voicemail", "queue"]


class AlertRoute(BaseModel):
    """Which alerts go to which channel. Empty filters match everything."""

    model_config = ConfigDict(extra="forbid")

    channel: str
    name: str | None = None
    kinds: list[AlertFamily] = Field(default_factory=_default_families)
    vendor: str | None = None
    groups: list[str] = Field(default_factory=list)  # queue/line names or ids, case-insensitive
    numbers: list[str] = Field(default_factory=list)  # E.164 line or caller numbers
    quiet_hours: QuietHours | None = None
    #: Alerts per minute for this channel beyond which new ones fold into one digest message.
    digest_after_per_minute: int = Field(default=20, ge=1, le=600)


class QueueThreshold(BaseModel):
    """When a queue needs attention; any one condition breaches."""

    model_config = ConfigDict(extra="forbid")

    group: str  # queue/group name or id; "*" for every queue
    vendor: str | None = None
    calls_waiting: int | None = Field(default=None, ge=1)
    longest_wait_seconds: int | None = Field(default=None, ge=1)
    no_free_agent: bool = False
    #: A breach must last this long before it alerts, and a recovery this long before it resolves.
    min_duration_seconds: int = Field(default=30, ge=0, le=3600)

    @model_validator(mode="after")
    def _has_condition(self) -> QueueThreshold:
        if self.calls_waiting is None and self.longest_wait_seconds is None and not self.no_free_agent:
            raise ValueError("a queue threshold needs calls_waiting, longest_wait_seconds or no_free_agent")
        return self


class DeliverySettings(BaseModel):
    """How alerts are written to Slack (``alerts.delivery``); the defaults suit Slack's limits."""

    model_config = ConfigDict(extra="forbid")

    #: Seconds between two writes to one channel (Slack: about one message per second per channel).
    pace_seconds: float = Field(default=1.0, ge=0, le=60)
    #: While Slack is unavailable (5xx, timeouts, connection errors), an alert is retried with backoff
    #: (doubling from ``backoff_seconds``, at most a minute apart) until it has failed at least
    #: ``max_attempts`` times *and* for ``retry_window_seconds``; only then is it parked in the
    #: dead-letter list, as *transient*, and replayed by itself once Slack accepts writes again.
    #: A permanent refusal (``channel_not_found``…) is parked at once, whatever these say.
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry_window_seconds: float = Field(default=1800, ge=0, le=7 * 24 * 3600)
    #: Quick retries inside one attempt, with exponential backoff from ``backoff_seconds``.
    retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    #: An alert another worker left unfinished this long is taken over (that worker probably died).
    take_over_after_seconds: float = Field(default=60, ge=0.1, le=3600)
    #: A digest message is edited at most once per this many seconds; changes in between are coalesced.
    digest_refresh_seconds: float = Field(default=10, ge=0, le=600)
    #: ``/readyz`` answers 503 while the oldest alert still waiting for Slack is older than this.
    ready_max_pending_age_seconds: float = Field(default=300, gt=0, le=24 * 3600)
    #: How long one Slack Web API call may take before phonebot stops waiting for the answer.
    slack_timeout_seconds: float = Field(default=10, gt=0, le=120)
    #: Least time between two ``conversations.history`` reads, and between two ``conversations.replies``
    #: reads (looking for a post whose outcome was unknown: in a channel, in a thread). Slack allows
    #: apps outside the Marketplace about one per minute per method and workspace.
    history_interval_seconds: float = Field(default=60, ge=0, le=3600)


class AlertSettings(BaseModel):
    """The ``alerts:`` section."""

    model_config = ConfigDict(extra="forbid")

    routes: list[AlertRoute] = Field(default_factory=list)
    queue_thresholds: list[QueueThreshold] = Field(default_factory=list)
    #: Seconds between two poll rounds (vendors without webhooks, queue thresholds).
    poll_interval_seconds: float = Field(default=30, ge=0.2, le=3600)
    #: How long the Snooze button on an alert holds back a channel's new alerts.
    snooze_minutes: float = Field(default=30, gt=0, le=24 * 60)
    #: How long a Listen link phonebot issues for a voicemail keeps working.
    listen_link_days: float = Field(default=7, gt=0, le=90)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)


class PhonebotConfig(BaseModel):
    """The YAML file, validated."""

    model_config = ConfigDict(extra="forbid")

    default_country: str = "DK"
    timezone: str = "Europe/Copenhagen"
    default_vendor: str | None = None
    vendors: dict[str, AdapterConfig] = Field(default_factory=dict)
    users: list[UserMapping] = Field(default_factory=list)
    #: Slack user ids of phonebot admins (see ``bot.permissions`` for what only they may do).
    admins: list[str] = Field(default_factory=list)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    #: Seconds a command may wait for a vendor before the user is told it is slow to answer.
    slow_notice_seconds: float = Field(default=2.0, gt=0, le=30)
    #: Commands and buttons doing vendor work at once in one process; more wait their turn (and
    #: are told "queued" after ``slow_notice_seconds``). Their vendor requests use at most 40 of a
    #: vendor's 50 connections (the rest are the alert poller's), identical reads share one request.
    max_concurrent_work: int = Field(default=256, ge=1, le=1000)
    #: Work still waiting for its turn after this long is refused with "try again" instead.
    max_queued_seconds: float = Field(default=60.0, gt=0, le=1800)

    @field_validator("default_country")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not an ISO 3166 country code phonenumbers knows (e.g. DK, SE, LT)")
        return region

    @field_validator("admins")
    @classmethod
    def _slack_user_ids(cls, value: list[str]) -> list[str]:
        admins: list[str] = []
        for entry in value:
            user_id = entry.strip()
            if _SLACK_GROUP_ID.fullmatch(user_id):
                raise ValueError(
                    f"{user_id!r} is a Slack user group; phonebot lists admins one by one, so put the "
                    "members' user ids here instead"
                )
            if not _SLACK_USER_ID.fullmatch(user_id):
                raise ValueError(
                    f"{entry!r} is not a Slack user id; admins are listed by id, like U012ABCDEF "
                    "(Slack: the person's profile → ⋮ → Copy member ID)"
                )
            if user_id not in admins:
                admins.append(user_id)
        return admins

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Copenhagen)") from exc
        return value

    @field_validator("vendors", mode="before")
    @classmethod
    def _vendor_sections(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError("`vendors` must map a vendor name to its settings")
        parsed: dict[str, AdapterConfig] = {}
        for name, raw in value.items():
            if name not in ADAPTERS:
                raise ValueError(f"unknown vendor {name!r}; known vendors: {', '.join(sorted(ADAPTERS))}")
            if isinstance(raw, AdapterConfig):
                parsed[name] = raw
                continue
            try:
                parsed[name] = parse_adapter_config(name, dict(raw or {}))
            except ValidationError as exc:
                raise ValueError(_format_errors(exc, prefix=f"{name}.")) from None
        return parsed

    @model_validator(mode="after")
    def _vendor_references(self) -> PhonebotConfig:
        if self.default_vendor is not None and self.default_vendor not in self.vendors:
            raise ValueError(f"default_vendor {self.default_vendor!r} is not configured under `vendors`")
        for index, user in enumerate(self.users):
            if user.vendor is not None and user.vendor not in self.vendors:
                raise ValueError(f"users[{index}].vendor {user.vendor!r} is not configured under `vendors`")
            vendor = user.vendor or self.primary_vendor()
            if user.dial_device is not None and vendor is not None:
                adapter = adapter_class(vendor)
                if not adapter.dial_devices:
                    raise ValueError(
                        f"users[{index}].dial_device: {adapter.display_name} rings the user's phone as it is set up; "
                        "it has no per-user device choice"
                    )
                if user.dial_device not in adapter.dial_devices:
                    allowed = ", ".join(repr(device) for device in adapter.dial_devices)
                    raise ValueError(
                        f"users[{index}].dial_device {user.dial_device!r} is not a {adapter.display_name} device; "
                        f"use {allowed}, or leave it out to ring every device"
                    )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def primary_vendor(self) -> str | None:
        """The vendor used when a user mapping does not name one."""
        if self.default_vendor:
            return self.default_vendor
        return next(iter(self.vendors), None)

    def user_tokens(self, vendor: str) -> UserTokens:
        """The personal ``token:`` of every ``users:`` entry for ``vendor``, by vendor user where named."""
        by_user: dict[str, SecretStr] = {}
        unnamed: list[SecretStr] = []
        for user in self.users:
            if user.token is None or (user.vendor or self.primary_vendor()) != vendor:
                continue
            if user.vendor_user:
                by_user.setdefault(user.vendor_user, user.token)
            else:
                unnamed.append(user.token)
        return UserTokens(by_user=by_user, unnamed=tuple(unnamed))


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str], *, where: str = "") -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of a loaded YAML tree."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{where or 'value'}: environment variable {name} is not set")

        return _VAR.sub(substitute, value)
    if isinstance(value, dict):
        return {k: interpolate(v, env, where=f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, where=f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _format_errors(exc: ValidationError, *, prefix: str = "") -> str:
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{prefix}{location}: {message}" if location else f"{prefix}{message}")
    return "; ".join(lines)


def parse_config(raw: Any, *, source: str, env: Mapping[str, str] | None = None) -> PhonebotConfig:
    """Validate an already-loaded YAML tree; errors are prefixed with ``source``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of settings")
    try:
        resolved = interpolate(raw, os.environ if env is None else env)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    resolved = {**resolved, "vendors": _vendor_configs(resolved.get("vendors", {}), source=source)}
    try:
        return PhonebotConfig.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_format_errors(exc)}") from None


def _vendor_configs(raw: Any, *, source: str) -> Any:
    """Validate each known vendor's section with its adapter's model, so errors read ``vendors.dstny.x``."""
    if not isinstance(raw, dict):
        return raw
    parsed: dict[str, Any] = {}
    problems: list[str] = []
    for name, section in raw.items():
        if name in ADAPTERS and isinstance(section, dict | None):
            try:
                parsed[name] = parse_adapter_config(name, dict(section or {}))
            except ValidationError as exc:
                problems.append(_format_errors(exc, prefix=f"vendors.{name}."))
            except PathOverrideError as exc:
                problems.append(f"vendors.{name}.{exc}")
        else:
            parsed[name] = section  # the model's validator explains what is wrong
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return parsed


def load_config(path: Path | None, *, env: Mapping[str, str] | None = None) -> PhonebotConfig:
    """Load and validate the YAML file at ``path`` (``None``: defaults, no vendors)."""
    if path is None:
        return parse_config({}, source="defaults", env=env)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    return parse_config(raw, source=str(path), env=env)
