"""HTTP plumbing shared by every adapter: one endpoint table, one error mapping, safe retries.

Every vendor path an adapter uses is an :class:`Endpoint` in that adapter's ``ENDPOINTS``
table, tagged with where the path comes from (``seed``, ``public:source`` or
``inferred``), so a wrong inferred path is a one-line fix.

Connection pool safety. httpcore leaks a pool slot for good when a request is cancelled
(its own pool timeout is a cancellation too) after the pool handed it a fresh connection but
before it connected (encode/httpcore#1093); under contention every slot ends up CONNECTING and
each later request times out. :class:`VendorHttpClient` therefore never lets more requests
into the pool than it has connections (the rest wait in a semaphore, bounded by the pool
timeout), lets httpx's own timeouts end a request instead of cancelling it (a caller that is
cancelled stops waiting; the request itself runs on), and rebuilds the httpx client when the
pool times out anyway, which can then only mean slots held by requests that no longer exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
import re
from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx
from prometheus_client import Counter

from adapters.errors import (
    NotFound,
    VendorAuthError,
    VendorError,
    VendorRateLimited,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from adapters.redaction import SECRETS, excerpt
from adapters.shared_reads import SharedReads

log = logging.getLogger(__name__)

Method = Literal["GET", "POST", "PUT", "DELETE"]
Source = Literal["seed", "public", "inferred", "config"]

IDEMPOTENT: frozenset[str] = frozenset({"GET", "PUT", "DELETE"})

#: Connections per vendor client (httpx pool size); at most this many requests are in flight.
DEFAULT_MAX_CONNECTIONS = 50
#: Of those, how many interactive work (commands, buttons) can never take: the alert poller's.
RESERVED_FOR_BACKGROUND = 10

_INTERACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("phonebot_interactive", default=False)


@contextlib.contextmanager
def interactive() -> Iterator[None]:
    """Vendor requests made inside (and in tasks started inside) are interactive work.

    Interactive requests share all but :data:`RESERVED_FOR_BACKGROUND` of a client's
    connections, so a burst of slash commands can never starve the alert poller.
    """
    token = _INTERACTIVE.set(True)
    try:
        yield
    finally:
        _INTERACTIVE.reset(token)


POOL_REBUILDS = Counter(
    "phonebot_vendor_pool_rebuilds_total",
    "Vendor HTTP clients rebuilt because their connection pool was wedged (slots held by nobody)",
    ["vendor"],
)


@dataclass(frozen=True)
class Endpoint:
    """One vendor operation: method, path template (``{name}`` placeholders) and provenance."""

    method: Method
    path: str
    source: Source
    note: str = ""
    # Never retried even when the method is idempotent (e.g. anything that rings a phone).
    retry: bool = True

    def render(self, params: Mapping[str, str]) -> str:
        """Fill the template; every value is percent-encoded (``+`` becomes ``%2B``)."""
        return self.path.format(**{k: quote(str(v), safe="@") for k, v in params.items()})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for idempotent calls only."""

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay * 4)
        return float(min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + random.random() / 2))


DEFAULT_TIMEOUT = httpx.Timeout(8.0, connect=3.0)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form only)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Generation:
    """One ``httpx.AsyncClient`` and how many of our requests are in flight on it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.in_flight = 0
        self.retired = False


class VendorHttpClient:
    """An ``httpx.AsyncClient`` bound to one vendor: base URL, auth, endpoint table, error mapping.

    Args:
        vendor: vendor name used in errors and logs.
        base_url: the vendor API root (config ``base_url``).
        endpoints: the adapter's endpoint table.
        default_headers: sent on every request (``Accept`` and the like).
        timeout: per-request timeout; its ``pool`` part also bounds the wait for a free connection.
        retry: retry policy for idempotent calls.
        transport: optional httpx transport (tests).
        reasons: phonebot's wording for the vendor's machine-readable error codes (users never
            see the vendor's own error text).
        max_connections: the pool size, and so the most requests in flight at once.
    """

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        endpoints: Mapping[str, Endpoint],
        default_headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        reasons: Mapping[str, str] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.vendor = vendor
        self.reasons = dict(reasons or {})
        self.endpoints = endpoints
        self.retry = retry or RetryPolicy()
        self.max_connections = max_connections
        self.rebuilds = 0
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._client_options: dict[str, Any] = {
            "base_url": base_url.rstrip("/"),
            "headers": dict(default_headers or {}),
            "timeout": self._timeout,
            "transport": transport,
            "limits": httpx.Limits(max_connections=max_connections, max_keepalive_connections=10),
        }
        self._current = _Generation(httpx.AsyncClient(**self._client_options))
        self._slots = asyncio.Semaphore(max_connections)
        self._interactive_slots = asyncio.Semaphore(max(1, max_connections - RESERVED_FOR_BACKGROUND))
        self._requests: set[asyncio.Task[httpx.Response]] = set()
        self._reads = SharedReads(vendor)

    @property
    def in_flight(self) -> int:
        """Requests of ours on the wire now (every client generation)."""
        return len(self._requests)

    async def aclose(self) -> None:
        await self._current.client.aclose()

    async def call(
        self,
        name: str,
        *,
        token: str | None,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
    ) -> Any:
        """Call endpoint ``name`` and return the decoded JSON body (``None`` when empty).

        Raises a :class:`VendorError` subclass on any failure.
        """
        response = await self._send(
            name,
            token=token,
            path_params=path_params,
            params=params,
            json=json,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
        )
        return _decode(response)

    async def fetch(
        self,
        name: str,
        *,
        token: str | None,
        path_params: Mapping[str, str] | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
    ) -> tuple[bytes, str]:
        """Call endpoint ``name`` and return the raw body and its content type (audio, files).

        Raises a :class:`VendorError` subclass on any failure.
        """
        response = await self._send(
            name,
            token=token,
            path_params=path_params,
            params=None,
            json=None,
            auth_header=auth_header,
            auth_scheme=auth_scheme,
        )
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def _send(
        self,
        name: str,
        *,
        token: str | None,
        path_params: Mapping[str, str] | None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json: Any,
        auth_header: str,
        auth_scheme: str,
    ) -> httpx.Response:
        """The successful response of endpoint ``name``, retried where that is safe.

        Identical reads in flight at once share one request (:class:`SharedReads`).
        """
        endpoint = self.endpoints[name]
        url = endpoint.render(path_params or {})
        headers: dict[str, str] = {}
        if token:
            SECRETS.add(token)  # whatever carries it back (an echoing error body, a log line) masks it
            headers[auth_header] = f"{auth_scheme} {token}" if auth_scheme else token
        if endpoint.method != "GET" or json is not None:
            self._reads.wrote()
            return await self._send_once_or_retried(endpoint, name, url, params, json, headers)
        key = (url, repr(params), tuple(sorted(headers.items())))

        def read() -> Awaitable[httpx.Response]:
            return self._send_once_or_retried(endpoint, name, url, params, None, headers)

        return await self._reads.run(key, read)

    async def _send_once_or_retried(
        self,
        endpoint: Endpoint,
        name: str,
        url: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json: Any,
        headers: dict[str, str],
    ) -> httpx.Response:
        retryable = endpoint.retry and endpoint.method in IDEMPOTENT
        attempts = self.retry.attempts if retryable else 1
        last_error: VendorError | None = None
        for attempt in range(attempts):
            try:
                response = await self._request(endpoint.method, url, params=params, json=json, headers=headers)
            except httpx.PoolTimeout as exc:  # never sent: no free connection in time
                earlier = last_error is not None and last_error.outcome_unknown  # an earlier try may have landed
                message = f"{self.vendor} did not answer in time"
                last_error = VendorTimeout(self.vendor, message, outcome_unknown=earlier)
                last_error.__cause__ = exc
            except httpx.TimeoutException as exc:
                sent = _may_have_happened(endpoint, exc, last_error)
                last_error = VendorTimeout(self.vendor, f"{self.vendor} did not answer in time", outcome_unknown=sent)
                last_error.__cause__ = exc
            except httpx.HTTPError as exc:
                sent = _may_have_happened(endpoint, exc, last_error)
                last_error = VendorUnavailable(self.vendor, f"{self.vendor} could not be reached", outcome_unknown=sent)
                last_error.__cause__ = exc
            else:
                if response.is_success:
                    return response
                last_error = self._error_for(response, name)
                last_error.operation = name
                if not isinstance(last_error, VendorUnavailable | VendorRateLimited):
                    raise last_error
            log.info(
                "vendor call failed",
                extra={"vendor": self.vendor, "endpoint": name, "attempt": attempt + 1, "error": str(last_error)},
            )
            if attempt + 1 < attempts:
                retry_after = last_error.retry_after if isinstance(last_error, VendorRateLimited) else None
                await asyncio.sleep(self.retry.delay(attempt, retry_after))
        assert last_error is not None
        last_error.operation = name
        raise last_error

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request once: inside a free pool slot, and safe from our caller's cancellation.

        The request runs in its own task that only httpx's timeouts end; a cancelled caller
        stops waiting for it, but never cancels it inside the pool (encode/httpcore#1093).
        """
        pool_wait = self._timeout.pool
        lane = self._interactive_slots if _INTERACTIVE.get() else None
        try:
            async with asyncio.timeout(pool_wait):
                if lane is not None:
                    await lane.acquire()
                try:
                    await self._slots.acquire()
                except BaseException:
                    if lane is not None:
                        lane.release()
                    raise
        except TimeoutError:
            raise httpx.PoolTimeout(f"all {self.max_connections} connections to {self.vendor} are busy") from None
        generation = self._current
        generation.in_flight += 1
        task = asyncio.ensure_future(self._on_the_wire(generation, method, url, kwargs, lane))
        self._requests.add(task)
        task.add_done_callback(self._request_done)
        return await asyncio.shield(task)

    async def _on_the_wire(
        self,
        generation: _Generation,
        method: str,
        url: str,
        kwargs: dict[str, Any],
        lane: asyncio.Semaphore | None = None,
    ) -> httpx.Response:
        try:
            return await generation.client.request(method, url, **kwargs)
        except httpx.PoolTimeout:
            # At most max_connections of ours are ever in flight, so a pool timeout means slots
            # held by requests that no longer exist: the pool is wedged and only a new one recovers.
            self._rebuild(generation)
            raise
        finally:
            generation.in_flight -= 1
            self._slots.release()
            if lane is not None:
                lane.release()
            if generation.retired and generation.in_flight == 0:
                await generation.client.aclose()

    def _request_done(self, task: asyncio.Task[httpx.Response]) -> None:
        self._requests.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here too, for callers that stopped waiting

    def _rebuild(self, wedged: _Generation) -> None:
        if wedged is not self._current:
            return  # already replaced by a concurrent request
        if self._client_options["transport"] is not None:
            # A caller's transport (tests) is shared by every client made with it: nothing to rebuild.
            log.warning("vendor connection pool timed out", extra={"vendor": self.vendor})
            return
        log.warning(
            "vendor connection pool wedged; rebuilding the HTTP client",
            extra={"vendor": self.vendor, "in_flight": wedged.in_flight, "max_connections": self.max_connections},
        )
        POOL_REBUILDS.labels(self.vendor).inc()
        self.rebuilds += 1
        wedged.retired = True
        self._current = _Generation(httpx.AsyncClient(**self._client_options))

    def _error_for(self, response: httpx.Response, name: str) -> VendorError:
        status = response.status_code
        detail = _short_detail(response)
        if status in (401, 403):
            return VendorAuthError(
                self.vendor, f"{self.vendor} refused phonebot's credentials ({status})", status_code=status
            )
        if status == 429:
            return VendorRateLimited(
                self.vendor,
                f"{self.vendor} is rate limiting phonebot",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 404:
            # Plain words only: the operation's name (``error.operation``) is for logs, never for users.
            return NotFound(
                self.vendor,
                f"{self.vendor} couldn't find what phonebot asked for (it may have been removed)",
                status_code=status,
            )
        if status >= 500:
            return VendorUnavailable(self.vendor, f"{self.vendor} had an internal error ({status})", status_code=status)
        # The vendor's own words go to the log (redacted), never to the user: an error body may
        # echo the request, credentials included.
        log.info("%s refused %s (%d): %s", self.vendor, name, status, excerpt(detail) or "no reason given")
        worded = self.reasons.get(_vendor_code(response) or "") or _REASONS.get(status, "")
        rejected = VendorRejected(
            self.vendor,
            f"{self.vendor} refused the request ({status}{': ' + worded if worded else ''})",
            status_code=status,
        )
        rejected.vendor_detail = excerpt(detail)
        return rejected


#: Failures that prove the request never left phonebot: the vendor cannot have acted on it.
_NEVER_SENT = (
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ConnectError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
)


def _may_have_happened(endpoint: Endpoint, exc: httpx.HTTPError, earlier: VendorError | None) -> bool:
    """Whether a write that failed without an answer may still have been carried out.

    Reads change nothing. A write that timed out or lost its connection after it was sent
    (read/write timeout, dropped connection) may have rung the phone; so may an earlier
    attempt of a retried idempotent write.
    """
    if earlier is not None and earlier.outcome_unknown:
        return True
    return endpoint.method != "GET" and not isinstance(exc, _NEVER_SENT)


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    if "json" in response.headers.get("content-type", "") or response.content[:1] in (b"{", b"["):
        try:
            return response.json()
        except ValueError:
            return response.text
    return response.text


_REASONS = {
    400: "it did not accept the values phonebot sent",
    409: "it conflicts with the current state",
    422: "it could not process the values phonebot sent",
}
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def _vendor_code(response: httpx.Response) -> str | None:
    """A machine-readable error code in the body (``field[0].code``, ``code``), if it looks like one."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    fields = body.get("field")
    candidates = [fields[0].get("code")] if isinstance(fields, list) and fields and isinstance(fields[0], dict) else []
    candidates.append(body.get("code"))
    return next((c for c in candidates if isinstance(c, str) and _CODE.fullmatch(c)), None)


def _short_detail(response: httpx.Response) -> str:
    """The vendor's reason from an error body, unredacted: pass it through :func:`excerpt` before use."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] if response.text else ""
    if isinstance(body, dict):
        for key in ("message", "error", "description", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
        fields = body.get("field")
        if isinstance(fields, list) and fields and isinstance(fields[0], dict):
            return str(fields[0].get("description") or fields[0].get("code") or "")[:200]
    return ""
