"""One aiohttp session per process for everything phonebot sends to Slack.

slack_sdk's async clients open a new ``aiohttp.ClientSession`` — a new TCP (and TLS)
connection — for every call unless they are given one, and Bolt's ``respond()`` does the
same for every ``response_url`` post. :class:`SlackSession` holds the one shared session
(opened lazily inside the running event loop, as aiohttp requires); clients built with
:meth:`SlackSession.web_client` use it for every Web API call, and the command handlers post
to ``response_url`` through the bot client's ``session`` (``handlers/bolt.py``).
``phonebot serve`` closes it on shutdown (``Runtime.aclose``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

#: Connections kept to Slack at most (aiohttp's default is 100 per session).
MAX_CONNECTIONS = 100
#: Seconds a Slack call may take in all. slack_sdk applies its own ``timeout`` only to sessions it
#: opens itself, so the shared session carries it.
TIMEOUT_SECONDS = 10.0


class SlackSession:
    """The process's shared aiohttp session for Slack, opened on first use in the running loop."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS, timeout: float = TIMEOUT_SECONDS) -> None:
        self.max_connections = max_connections
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def current(self) -> aiohttp.ClientSession | None:
        """The shared session for the running loop (opened now if needed); ``None`` outside a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._session is None or self._session.closed or self._loop is not loop:
            # A new loop (another ``asyncio.run``) cannot use a session bound to the old one.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
            self._loop = loop
        return self._session

    def web_client(self, **kwargs: Any) -> AsyncWebClient:
        """An ``AsyncWebClient`` (same arguments) whose every call goes through the shared session."""
        return _SharedSessionWebClient(shared=self, **kwargs)

    async def aclose(self) -> None:
        """Close the session (shutdown); a later call would open a new one."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class _SharedSessionWebClient(AsyncWebClient):
    """``AsyncWebClient`` reading its ``session`` from a :class:`SlackSession` at call time."""

    def __init__(self, *, shared: SlackSession, **kwargs: Any) -> None:
        self._shared = shared
        super().__init__(**kwargs)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        return self._shared.current()

    @session.setter
    def session(self, value: aiohttp.ClientSession | None) -> None:
        # The base class stores its ``session`` argument; the shared session always wins.
        pass
