"""uvicorn, run with the guards it lacks: a header read timeout and a connection cap that sheds idle ones.

uvicorn closes idle keep-alive connections, but a connection that never finishes its request
headers is kept open forever, and nothing bounds how many there are: a few thousand half-open
sockets exhaust the file-descriptor limit, the accept loop logs "Too many open files" in a
tight loop and ``/healthz`` stalls. :class:`GuardedH11Protocol` (uvicorn's own h11 protocol, via
its documented ``http=`` protocol-class option) therefore

* closes a connection that has not sent a complete request within ``header_timeout_seconds``;
* keeps at most ``max_connections`` open: past that, a new connection makes room by closing the
  oldest connection that is not in the middle of a request, or is itself closed when every
  connection is busy. The cap defaults to the soft ``RLIMIT_NOFILE`` less a reserve for Redis,
  vendor and Slack pools and one accept round (the listen backlog), after raising the soft limit
  to the hard one.

Body size and body read timeouts are ASGI-level (:mod:`bot.http_limits`).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.http_limits import HttpLimits
from bot.metrics import HTTP_CONNECTIONS_SHED

log = logging.getLogger(__name__)

#: File descriptors kept free for everything that is not an inbound connection.
FD_RESERVE = 300
MIN_CONNECTIONS = 16
MAX_DERIVED_CONNECTIONS = 10_000


@dataclass(frozen=True)
class ConnectionBudget:
    """How many connections may be open, and how many one accept round may take."""

    max_connections: int
    backlog: int


def connection_budget(limits: HttpLimits) -> ConnectionBudget:
    """The budget: from the (raised) file-descriptor limit, lowered to ``limits.max_connections`` if set.

    asyncio accepts up to ``backlog`` sockets in one round before any connection is set up (and
    so before the guard can shed one), so cap + backlog + the reserve must fit the limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard or (hard == resource.RLIM_INFINITY and soft != hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft > MAX_DERIVED_CONNECTIONS * 2:
        soft = MAX_DERIVED_CONNECTIONS * 2
    backlog = max(16, min(512, soft // 8))
    derived = max(MIN_CONNECTIONS, soft - FD_RESERVE - backlog)
    cap = min(limits.max_connections, derived) if limits.max_connections else derived
    return ConnectionBudget(max_connections=cap, backlog=backlog)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the header timeout and the shedding connection cap."""

    header_timeout: float = 10.0
    max_connections: int = 1000

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened_at = self.loop.time()
        self._header_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.header_timeout, self._header_timed_out
        )
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._busy() and getattr(self, "_header_timer", None) is None:
            # The next request on a kept-alive connection gets the same time to send its headers.
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self._busy():
            self._cancel_header_timer()  # a whole request arrived: the header timeout is done with

    def _busy(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if not self._busy() and not self.transport.is_closing():
            HTTP_CONNECTIONS_SHED.labels("header_timeout").inc()
            self.transport.close()

    def _make_room(self) -> None:
        idle = [
            other
            for other in self.connections
            if isinstance(other, GuardedH11Protocol) and other is not self and not other._busy()
        ]
        victim = min(idle, key=lambda other: other._opened_at) if idle else self
        HTTP_CONNECTIONS_SHED.labels("over_capacity").inc()
        victim.transport.close()

    def _cancel_header_timer(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            assert self._header_timer is not None
            self._header_timer.cancel()
            self._header_timer = None


def uvicorn_options(limits: HttpLimits) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that apply ``limits``."""
    budget = connection_budget(limits)
    log.debug(
        "HTTP: at most %d connections, %.0f s to send headers", budget.max_connections, limits.header_timeout_seconds
    )
    protocol = type(
        "BoundGuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": limits.header_timeout_seconds, "max_connections": budget.max_connections},
    )
    return {
        "http": protocol,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16 * 1024,  # request line + headers
        "backlog": budget.backlog,
    }
