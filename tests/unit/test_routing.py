"""Alert routes: filters and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.events import AlertEvent, AlertKind
from bot.config import AlertRoute, ConfigError, QuietHours, parse_config
from bot.routing import quiet_until, routes_for

CPH = ZoneInfo("Europe/Copenhagen")


def event(kind: AlertKind = AlertKind.LOST_CALL_OPENED, **fields: object) -> AlertEvent:
    base: dict[str, object] = {
        "kind": kind,
        "vendor": "tele2",
        "subject": "lost:+37060000001:Support",
        "idempotency_key": "k1",
        "occurred_at": datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        "caller_number": "+37060000001",
        "line": "Support",
    }
    base.update(fields)
    return AlertEvent.model_validate(base)


def test_routes_filter_by_family_vendor_group_and_number() -> None:
    routes = [
        AlertRoute(channel="C-ALL"),
        AlertRoute(channel="C-VM", kinds=["voicemail"]),
        AlertRoute(channel="C-SALES", groups=["sales"]),
        AlertRoute(channel="C-DSTNY", vendor="dstny"),
        AlertRoute(channel="C-VIP", numbers=["+37060000001"]),
        AlertRoute(channel="C-ALL", groups=["support"]),  # same channel twice: one message
    ]
    assert [r.channel for r in routes_for(event(), routes)] == ["C-ALL", "C-VIP"]
    assert [r.channel for r in routes_for(event(AlertKind.VOICEMAIL_NEW), routes)] == ["C-ALL", "C-VM", "C-VIP"]
    assert [r.channel for r in routes_for(event(line="Sales", caller_number=None), routes)] == ["C-ALL", "C-SALES"]


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours(start="22:00", end="07:00")
    at = lambda h, m=0, d=24: datetime(2026, 11, d, h, m, tzinfo=CPH)  # noqa: E731 - a Tuesday
    assert quiet_until(quiet, at(21, 59), CPH) is None
    assert quiet_until(quiet, at(22, 0), CPH) == at(7, 0, 25)
    assert quiet_until(quiet, at(3, 0, 25), CPH) == at(7, 0, 25)
    assert quiet_until(quiet, at(7, 0, 25), CPH) is None


def test_quiet_hours_only_on_listed_days_and_in_their_own_zone() -> None:
    weekend = QuietHours(start="00:00", end="23:59", days=["sat", "sun"], timezone="Europe/Vilnius")
    saturday_noon = datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Europe/Vilnius"))
    assert quiet_until(weekend, saturday_noon, CPH) is not None
    assert quiet_until(weekend, datetime(2026, 11, 27, 12, 0, tzinfo=CPH), CPH) is None


def test_alert_config_is_validated() -> None:
    with pytest.raises(
        ConfigError, match=r"alerts\.routes\.0\.quiet_hours\.start: Value error, '25:00'|'25:00' is not a time"
    ):
        parse_config(
            {"alerts": {"routes": [{"channel": "C1", "quiet_hours": {"start": "25:00", "end": "07:00"}}]}},
            source="p",
            env={},
        )
    with pytest.raises(ConfigError, match="needs calls_waiting"):
        parse_config({"alerts": {"queue_thresholds": [{"group": "Support"}]}}, source="p", env={})
    config = parse_config(
        {
            "alerts": {
                "routes": [{"channel": "C1", "kinds": ["lost_call"], "quiet_hours": {"start": "22:00", "end": "07:00"}}]
            }
        },
        source="p",
        env={},
    )
    assert config.alerts.routes[0].kinds == ["lost_call"]
