"""Operator path overrides (issue 10, point 10): checked when the config is read, used on the wire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.path_overrides import PathOverrideError, check_overrides, placeholders, with_overrides
from adapters.registry import ADAPTERS, adapter_class, parse_adapter_config
from adapters.relatel.adapter import RelatelAdapter
from adapters.relatel.simulator import ADMIN_TOKEN, RelatelSimulator
from adapters.simulation import LoopbackServer
from bot.config import ConfigError, parse_config

RELATEL = {"token": "t", "base_url": "https://app.example.com/api/v2"}


def test_every_adapter_declares_the_table_it_calls() -> None:
    for vendor in ADAPTERS:
        endpoints = adapter_class(vendor).endpoints
        assert endpoints, f"{vendor} declares no endpoints"
        assert all(row.path.startswith("/") for row in endpoints.values())


def test_an_override_with_the_same_placeholders_replaces_only_its_path() -> None:
    table = adapter_class("relatel").endpoints
    changed = with_overrides(table, {"employee": "/people/{id}"})
    assert changed["employee"].path == "/people/{id}"
    assert changed["employee"].method == table["employee"].method and changed["employee"].source == "config"
    assert changed["employee"].note == f"overrides {table['employee'].path}"
    assert {k: v for k, v in changed.items() if k != "employee"} == {k: v for k, v in table.items() if k != "employee"}


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"employe": "/people"}, "paths.employe: no such operation; the operations are: "),
        ({"employee": "/people/{user}"}, "must use exactly the placeholders of '/employees/{id}': {id}"),
        ({"employee": "/people"}, "must use exactly the placeholders"),
        ({"employees": "https://evil.example/employees"}, "must be an absolute path"),
        ({"employees": "/employees?all=1"}, "must be an absolute path"),
        ({"employees": "//evil.example/employees"}, "must be an absolute path"),
        ({"employees": "/api/../admin"}, "must be an absolute path"),
        ({"employee": "/people/{id"}, "broken placeholder"),
    ],
)
def test_an_override_that_cannot_work_is_refused_with_the_reason(overrides: dict[str, str], says: str) -> None:
    with pytest.raises(PathOverrideError, match=None) as raised:
        check_overrides(adapter_class("relatel").endpoints, overrides)
    assert says in str(raised.value)


def test_a_bad_override_stops_the_config_with_the_field_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"vendors": {"relatel": {**RELATEL, "paths": {"employee": "/people/{who}"}}}}, source="p.yml")
    assert str(raised.value).startswith("p.yml: vendors.relatel.paths.employee: '/people/{who}' must use exactly")
    config = parse_adapter_config("relatel", {**RELATEL, "paths": {"employee": "/people/{id}"}})
    assert config.paths == {"employee": "/people/{id}"}


def test_placeholders_are_read_from_the_template() -> None:
    assert placeholders("/api/calls/current/{domain}/{user}/{aptype}/{cid}") == {"domain", "user", "aptype", "cid"}
    assert placeholders("/receptions") == frozenset()


@pytest.fixture
def moved_api() -> Iterator[tuple[LoopbackServer, list[str]]]:
    """The Relatel simulator, but its employee list answers on ``/api/v2/staff`` instead."""
    simulator = RelatelSimulator()
    hits: list[str] = []
    with LoopbackServer(simulator.build_app()) as real:

        async def staff(request: Request) -> Response:
            hits.append(request.url.path)
            async with httpx.AsyncClient() as client:
                answer = await client.get(real.url + "/api/v2/employees", headers=dict(request.headers))
            return Response(answer.content, answer.status_code, media_type="application/json")

        async def gone(request: Request) -> Response:
            return Response(status_code=404)

        app = Starlette(routes=[Route("/api/v2/staff", staff), Route("/api/v2/{rest:path}", gone)])
        with LoopbackServer(app) as moved:
            yield moved, hits


async def test_the_adapter_calls_the_overridden_path(moved_api: tuple[LoopbackServer, list[str]]) -> None:
    server, hits = moved_api
    config = parse_adapter_config(
        "relatel", {"token": ADMIN_TOKEN, "base_url": server.url + "/api/v2", "paths": {"employees": "/staff"}}
    )
    adapter = RelatelAdapter(config)  # type: ignore[arg-type]
    try:
        users = await adapter.list_users(adapter.service_identity())
    finally:
        await adapter.aclose()
    assert users and hits == ["/api/v2/staff"]


def test_check_lists_each_overridden_path() -> None:
    from bot.cli import overridden_paths

    config = parse_adapter_config("relatel", {**RELATEL, "paths": {"employees": "/staff"}})
    adapter = RelatelAdapter(config)  # type: ignore[arg-type]
    assert overridden_paths(adapter) == ["path employees: GET /staff (config; overrides /employees)"]
    plain = RelatelAdapter(parse_adapter_config("relatel", RELATEL))  # type: ignore[arg-type]
    assert overridden_paths(plain) == []
