"""Which failed vendor calls may still have happened (``outcome_unknown``), and which provably didn't."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.errors import VendorError, VendorTimeout, VendorUnavailable
from adapters.http import Endpoint, RetryPolicy, VendorHttpClient

ENDPOINTS = {
    "read": Endpoint("GET", "/thing", "inferred"),
    "dial": Endpoint("POST", "/dial", "inferred", retry=False),
    "set": Endpoint("PUT", "/thing", "inferred"),
}


def _client(fail: Callable[[int], Exception | None]) -> tuple[VendorHttpClient, list[str]]:
    """A client whose transport raises ``fail(attempt)`` (or answers 200 when it returns None)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        error = fail(len(seen))
        if error is not None:
            raise error
        return httpx.Response(200, json={})

    client = VendorHttpClient(
        vendor="Relatel",
        base_url="http://vendor.invalid",
        endpoints=ENDPOINTS,
        retry=RetryPolicy(attempts=3, base_delay=0, max_delay=0),
        transport=httpx.MockTransport(handler),
    )
    return client, seen


async def _failure(name: str, fail: Callable[[int], Exception | None]) -> tuple[VendorError, list[str]]:
    client, seen = _client(fail)
    try:
        with pytest.raises(VendorError) as caught:
            await client.call(name, token="t")
    finally:
        await client.aclose()
    return caught.value, seen


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectTimeout("slow connect"), httpx.PoolTimeout("no free connection"), httpx.ConnectError("refused")],
)
async def test_a_write_that_never_left_changed_nothing(error: Exception) -> None:
    failure, seen = await _failure("dial", lambda _: error)
    assert not failure.outcome_unknown
    assert seen == ["POST"]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ReadTimeout("no answer"), VendorTimeout),
        (httpx.WriteTimeout("half sent"), VendorTimeout),
        (httpx.RemoteProtocolError("server disconnected"), VendorUnavailable),
        (httpx.ReadError("connection reset"), VendorUnavailable),
    ],
)
async def test_a_write_sent_without_an_answer_may_have_happened_and_is_not_retried(
    error: Exception, kind: type[VendorError]
) -> None:
    failure, seen = await _failure("dial", lambda _: error)
    assert isinstance(failure, kind) and failure.outcome_unknown
    assert seen == ["POST"]


async def test_a_read_that_timed_out_changed_nothing() -> None:
    failure, seen = await _failure("read", lambda _: httpx.ReadTimeout("no answer"))
    assert isinstance(failure, VendorTimeout) and not failure.outcome_unknown
    assert seen == ["GET"] * 3


async def test_a_retried_write_stays_unknown_once_any_attempt_may_have_landed() -> None:
    """First attempt sent and unanswered, the later ones never connect: it may still have landed."""

    def fail(attempt: int) -> Exception:
        return httpx.ReadTimeout("no answer") if attempt == 1 else httpx.ConnectTimeout("slow connect")

    failure, seen = await _failure("set", fail)
    assert isinstance(failure, VendorTimeout) and failure.outcome_unknown
    assert seen == ["PUT"] * 3


@pytest.mark.parametrize("status", [404, 403, 405, 422, 429, 500])
async def test_a_refusal_never_names_the_operation_to_users(status: int) -> None:
    """The message is for users (plain words); the operation's name is kept for logs only."""
    client = VendorHttpClient(
        vendor="Relatel",
        base_url="http://vendor.invalid",
        endpoints={"employee_group.leave": Endpoint("POST", "/employee_groups/{id}/leave", "public")},
        retry=RetryPolicy(attempts=1, base_delay=0, max_delay=0),
        transport=httpx.MockTransport(lambda _: httpx.Response(status, json={"message": f"{status} Not Found"})),
    )
    try:
        with pytest.raises(VendorError) as caught:
            await client.call("employee_group.leave", token="t", path_params={"id": "20"})
    finally:
        await client.aclose()
    for leak in ("employee_group", "leave", "/employee_groups"):
        assert leak not in caught.value.message and leak not in str(caught.value)
    assert caught.value.operation == "employee_group.leave"
    if status == 404:
        assert caught.value.message == "Relatel couldn't find what phonebot asked for (it may have been removed)"
