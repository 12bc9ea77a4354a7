"""A fake Slack Web API served over real HTTP on loopback, for end-to-end tests.

Point any Slack client at :attr:`FakeSlack.url` (``AsyncWebClient(base_url=fake.url)`` or the
``SLACK_API_URL`` setting) and it answers like Slack does:

* ``GET|POST /api/{method}`` takes JSON bodies, form bodies and query parameters, requires
  ``Authorization: Bearer xoxb-…`` (``not_authed`` / ``invalid_auth`` otherwise, HTTP 200 as
  Slack answers) and records every call in :attr:`FakeSlack.calls`.
* OAuth v2 (:mod:`tests.fakes.slack_oauth`, as :attr:`FakeSlack.oauth`): ``GET /oauth/v2/authorize``
  (:attr:`FakeSlack.authorize_url`) plays the installer, ``oauth.v2.access`` issues bot tokens per
  workspace or org; ``auth.test``/``bots.info`` answer per issued token, a method outside a token's
  scopes answers ``missing_scope`` (``needed``, ``provided``), answers carry ``X-OAuth-Scopes``.
  ``api.test`` and ``oauth.v2.access`` take no bearer token.
* Canned answers for ``auth.test``, ``chat.postMessage``, ``chat.update``,
  ``chat.postEphemeral``, ``views.publish``, ``users.info`` and ``users.lookupByEmail`` (users
  come from :meth:`FakeSlack.add_user`); any other method answers ``{"ok": true}`` unless
  :meth:`FakeSlack.set_response` scripts it.
* Faults per method that count down: :meth:`FakeSlack.fail` (429 + ``Retry-After`` or 5xx),
  :meth:`FakeSlack.error` (HTTP 200 with ``ok: false``) and :meth:`FakeSlack.delay`.
* Late answers (:meth:`FakeSlack.answer_late`): the call takes effect at once (a message is
  posted) but the answer is held, so a client that times out never learns the ``ts``.
* ``conversations.history`` over the posted messages (never thread replies; a parent carries
  ``reply_count``/``latest_reply``), honouring ``oldest``/``latest``/``inclusive``/``limit``/
  ``cursor`` (at most :attr:`FakeSlack.history_page_max` per page) and returning ``metadata``
  only with ``include_all_metadata``; ``conversations.replies`` reads one thread (``ts`` of its
  parent or of a reply; ``thread_not_found`` otherwise) the same way, oldest first, the parent
  heading the first page whatever the time window; :meth:`FakeSlack.rate_limit` makes
  any method answer 429 + ``Retry-After`` to more than one call per interval (Slack's one
  history read per minute for apps outside the Marketplace).
* Slack's hard Block Kit limits are checked on every message, ephemeral, Home tab view and
  ``response_url`` post; a breach answers ``invalid_blocks`` and lands in
  :attr:`FakeSlack.violations`, so a raw-dict regression fails the test that caused it.
* ``response_url`` endpoints from :meth:`FakeSlack.new_response_url` accept at most 5 posts
  within 30 minutes (the clock is injectable), as Slack's do.
* Modals: ``views.open`` and ``views.push`` (need a ``trigger_id``) and ``views.update`` (by
  ``view_id``, honouring ``hash``) keep every view in :attr:`FakeSlack.views`; a modal's
  title, buttons, ``private_metadata`` and its 100-block limit are checked like messages.

State is shared between the server thread and the test thread under one lock; the
``wait_for*`` helpers poll, so tests never sleep for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import threading
import time
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.simulation import LoopbackServer
from tests.fakes.slack_oauth import TOKENLESS_METHODS, USER_TOKEN_METHODS, FakeSlackOAuth

__all__ = [
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "RESPONSE_URL_MAX_AGE",
    "RESPONSE_URL_MAX_USES",
    "BlockViolation",
    "FakeSlack",
    "ResponsePost",
    "SlackCall",
    "check_blocks",
]

TEAM_ID = "T0001"
APP_ID = "A0001"  # the api_app_id SlackSigner puts in every request
TEAM_NAME = "Phonebot Test"
TEAM_URL = "https://phonebot-test.slack.com/"
BOT_USER_ID = "B0001"
BOT_ID = "B0001"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
ACTION_ID_MAX = 255
BLOCK_ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
VIEW_TITLE_MAX = 24
VIEW_PRIVATE_METADATA_MAX = 3000
VIEW_CALLBACK_ID_MAX = 255

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_MAX_AGE = 30 * 60.0

# Slack ignores JSON bodies for these methods (slack_sdk sends them as GET/form parameters).
FORM_ONLY_METHODS = frozenset({"users.info", "users.lookupByEmail"})
# Fields that form-encoded callers send as JSON strings; decoded before recording.
JSON_STRING_FIELDS = ("blocks", "attachments", "view", "metadata", "profile")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class SlackCall:
    """One Web API call the fake received.

    ``args`` merges query parameters and the body (JSON or form; JSON-encoded ``blocks``,
    ``attachments``, ``view`` and ``metadata`` strings are decoded). ``headers`` has
    lower-case names. ``at`` is the fake's clock when the call arrived; ``status`` and
    ``response`` are filled in once it has been carried out (``status`` is 0 until then), and
    ``answered_at`` once the answer was sent (see :meth:`FakeSlack.answer_late`).
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 0
    response: dict[str, Any] | None = None
    answered_at: float | None = None  # the fake's clock when the answer left (later than ``at`` if held)

    @property
    def token(self) -> str | None:
        """The bearer token the call was made with."""
        authorization = self.headers.get("authorization", "")
        return authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else None


@dataclass(frozen=True)
class BlockViolation:
    """A breach of Slack's Block Kit limits (or of a method's body format) the fake caught."""

    source: str
    """``chat.postMessage`` etc., or ``response_url <id>``."""
    path: str
    """Where in the payload, e.g. ``blocks[2].elements[0].text.text``."""
    problem: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.problem}"


@dataclass
class ResponsePost:
    """One accepted post to a ``response_url``."""

    body: dict[str, Any]
    at: float


@dataclass
class _Fault:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int | None


@dataclass
class _Delay:
    seconds: float
    remaining: int | None


@dataclass
class _RateLimit:
    per_seconds: float
    next_at: float = 0.0


def _take_countdown(table: dict[str, _Delay], method: str) -> float:
    entry = table.get(method)
    if entry is None:
        return 0.0
    if entry.remaining is not None:
        entry.remaining -= 1
        if entry.remaining <= 0:
            del table[method]
    return entry.seconds


@dataclass
class _ResponseUrl:
    created: float
    uses: int = 0


def check_blocks(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS, where: str = "blocks") -> list[str]:
    """Slack's hard Block Kit limits, checked on a plain-dict ``blocks`` list.

    Usable without the server, e.g. on a block builder's output in a unit test.

    Args:
        blocks: What would be sent as ``blocks``.
        max_blocks: 50 for messages, 100 for modals and the Home tab.
        where: Prefix for the reported paths.

    Returns:
        One ``"path: problem"`` string per breach; empty when Slack would accept the blocks.
    """
    if not isinstance(blocks, list):
        return [f"{where}: must be a list of block objects, got {type(blocks).__name__}"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{where}: {len(blocks)} blocks, limit {max_blocks}")
    for index, block in enumerate(blocks):
        path = f"{where}[{index}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"{path}: not a block object with a 'type'")
            continue
        _check_len(problems, f"{path}.block_id", block.get("block_id"), BLOCK_ID_MAX)
        kind = block["type"]
        if kind == "section":
            _check_section(problems, path, block)
        elif kind == "header":
            _check_text(problems, f"{path}.text", block.get("text"), HEADER_TEXT_MAX, required=True)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                problems.append(f"{path}.elements: an actions block needs 1..{ACTIONS_ELEMENTS_MAX} elements")
                continue
            if len(elements) > ACTIONS_ELEMENTS_MAX:
                problems.append(f"{path}.elements: {len(elements)} elements, limit {ACTIONS_ELEMENTS_MAX}")
            for number, element in enumerate(elements):
                _check_element(problems, f"{path}.elements[{number}]", element)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                problems.append(f"{path}.elements: a context block needs 1..{CONTEXT_ELEMENTS_MAX} elements")
            elif len(elements) > CONTEXT_ELEMENTS_MAX:
                problems.append(f"{path}.elements: {len(elements)} elements, limit {CONTEXT_ELEMENTS_MAX}")
        elif kind == "input":
            _check_element(problems, f"{path}.element", block.get("element"))
    return problems


def _check_len(problems: list[str], path: str, value: Any, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        problems.append(f"{path}: must be a string")
    elif len(value) > limit:
        problems.append(f"{path}: {len(value)} characters, limit {limit}")


def _check_text(problems: list[str], path: str, text: Any, limit: int, *, required: bool = False) -> None:
    if text is None:
        if required:
            problems.append(f"{path}: required")
        return
    if not isinstance(text, dict) or not isinstance(text.get("text"), str):
        problems.append(f"{path}: must be a text object ({{'type': ..., 'text': ...}})")
        return
    _check_len(problems, f"{path}.text", text["text"], limit)


def _check_section(problems: list[str], path: str, block: dict[str, Any]) -> None:
    text = block.get("text")
    fields = block.get("fields")
    if text is None and not fields:
        problems.append(f"{path}: a section needs 'text' or 'fields'")
    _check_text(problems, f"{path}.text", text, SECTION_TEXT_MAX)
    if fields is not None:
        if not isinstance(fields, list):
            problems.append(f"{path}.fields: must be a list")
        else:
            if len(fields) > SECTION_FIELDS_MAX:
                problems.append(f"{path}.fields: {len(fields)} fields, limit {SECTION_FIELDS_MAX}")
            for number, item in enumerate(fields):
                _check_text(problems, f"{path}.fields[{number}]", item, SECTION_FIELD_TEXT_MAX, required=True)
    if block.get("accessory") is not None:
        _check_element(problems, f"{path}.accessory", block["accessory"])


def _check_element(problems: list[str], path: str, element: Any) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        problems.append(f"{path}: not an element object with a 'type'")
        return
    _check_len(problems, f"{path}.action_id", element.get("action_id"), ACTION_ID_MAX)
    if element["type"] == "button":
        _check_text(problems, f"{path}.text", element.get("text"), BUTTON_TEXT_MAX, required=True)
        _check_len(problems, f"{path}.value", element.get("value"), BUTTON_VALUE_MAX)
        _check_len(problems, f"{path}.url", element.get("url"), BUTTON_URL_MAX)
    for key in ("options", "initial_options"):
        options = element.get(key)
        if isinstance(options, list):
            for number, option in enumerate(options):
                option_path = f"{path}.{key}[{number}]"
                if not isinstance(option, dict):
                    problems.append(f"{option_path}: not an option object")
                    continue
                _check_text(problems, f"{option_path}.text", option.get("text"), OPTION_TEXT_MAX, required=True)
                _check_len(problems, f"{option_path}.value", option.get("value"), OPTION_VALUE_MAX)


def _decode_json_strings(args: dict[str, Any]) -> None:
    for key in JSON_STRING_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # left as sent; block validation reports it
                args[key] = json.loads(value)


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(zoneinfo.ZoneInfo(tz)).utcoffset()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


class FakeSlack:
    """The fake Slack Web API (plus ``response_url`` endpoints) on a loopback port.

    Usage::

        fake = FakeSlack().start()
        client = AsyncWebClient(token="xoxb-test", base_url=fake.url)
        await client.chat_postMessage(channel="C1", text="hi")
        assert fake.calls_to("chat.postMessage")[0].args["text"] == "hi"
        fake.stop()

    Args:
        clock: Wall clock in seconds; stamps calls and ages ``response_url``s. Replace it
            (also later, via the ``clock`` attribute) to test the 30-minute expiry.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._initial_clock = clock
        self.team_id = TEAM_ID
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self.app_id = APP_ID
        self.accepted_token_prefixes: tuple[str, ...] = ("xoxb-",)
        self.accepted_tokens: set[str] | None = None
        self.calls: list[SlackCall] = []
        self.violations: list[BlockViolation] = []
        self.responses: dict[str, list[ResponsePost]] = {}
        self.rejected_responses: list[tuple[str, dict[str, Any], str]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        #: Modals opened, pushed or updated, by view id (as last written).
        self.views: dict[str, dict[str, Any]] = {}
        #: The client address (host, port) of every request, Web API and response_url alike.
        self.peers: list[tuple[str, int]] = []
        self._lock = threading.RLock()
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, _Delay] = {}
        self._late: dict[str, _Delay] = {}
        self._rate_limits: dict[str, _RateLimit] = {}
        #: Most messages one ``conversations.history`` page returns (Slack's cap outside the Marketplace).
        self.history_page_max = 15
        self._handlers: dict[str, Handler] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._last_ts_micros = 0
        self._response_counter = itertools.count(1)
        self._server: LoopbackServer | None = None
        #: The app's OAuth side: installs through ``/oauth/v2/authorize``, issued tokens, their scopes.
        self.oauth = FakeSlackOAuth(clock=lambda: self.clock(), app_id=APP_ID)
        #: Each person's custom status (``users.profile.get/set`` with their own user token), by user id.
        self.statuses: dict[str, dict[str, Any]] = {}
        #: Each person's DND snooze: ``{"num_minutes": n, "until": epoch}`` while snoozed (``dnd.*``).
        self.snoozes: dict[str, dict[str, Any]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Serve on a free 127.0.0.1 port from a background thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("FakeSlack is already running")
        # Slack keeps idle connections open far longer than uvicorn's 5 s default; a test machine busy for a
        # few seconds between two posts must not look like phonebot opening a new connection.
        self._server = LoopbackServer(self._build_app(), keep_alive_seconds=KEEP_ALIVE_SECONDS).start()
        return self

    def stop(self) -> None:
        """Stop serving (recorded state stays readable)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not running; call start() first")
        return self._server.url

    @property
    def authorize_url(self) -> str:
        """Slack's authorize page (``https://slack.com/oauth/v2/authorize``) on the fake."""
        return self.base_url + "/oauth/v2/authorize"

    @property
    def url(self) -> str:
        """The Web API base URL, ending in ``/api/``: slack_sdk's ``base_url``, ``SLACK_API_URL``."""
        return self.base_url + "/api/"

    def reset(self) -> None:
        """Forget calls, users, faults, scripted answers, violations and response URLs.

        Also restores the clock and token settings given at construction.
        """
        with self._lock:
            self.clock = self._initial_clock
            self.accepted_token_prefixes = ("xoxb-",)
            self.accepted_tokens = None
            self.calls.clear()
            self.violations.clear()
            self.responses.clear()
            self.rejected_responses.clear()
            self.users.clear()
            self.messages.clear()
            self.home_views.clear()
            self.views.clear()
            self.peers.clear()
            self._faults.clear()
            self._delays.clear()
            self._late.clear()
            self._rate_limits.clear()
            self.history_page_max = 15
            self._handlers.clear()
            self._response_urls.clear()
            self.oauth.reset()
            self.statuses.clear()
            self.snoozes.clear()

    # -- scripting ---------------------------------------------------------------------------

    def add_user(
        self, user_id: str, *, name: str, email: str, tz: str = "Europe/Copenhagen", is_admin: bool = False
    ) -> dict[str, Any]:
        """Make ``users.info`` / ``users.lookupByEmail`` know a user; returns the ``user`` object."""
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": email.split("@", 1)[0],
            "real_name": name,
            "deleted": False,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": _tz_offset(tz),
            "is_admin": is_admin,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "profile": {"real_name": name, "display_name": name, "email": email},
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def set_status(self, user_id: str, text: str, emoji: str, expiration: int = 0) -> None:
        """The person sets their own custom status in Slack (by hand)."""
        with self._lock:
            self.statuses[user_id] = {"status_text": text, "status_emoji": emoji, "status_expiration": expiration}

    def status_of(self, user_id: str) -> dict[str, Any]:
        """The person's custom status as Slack shows it now (an expired one is gone, as in Slack)."""
        with self._lock:
            return dict(self._current_status(user_id))

    def _current_status(self, user_id: str) -> dict[str, Any]:
        status = self.statuses.get(user_id) or {}
        expiration = int(status.get("status_expiration") or 0)
        if expiration and expiration <= self.clock():
            status = self.statuses[user_id] = {}
        return {
            "status_text": status.get("status_text", ""),
            "status_emoji": status.get("status_emoji", ""),
            "status_expiration": int(status.get("status_expiration") or 0),
        }

    def fail(self, method: str, *, status: int = 429, retry_after: float = 1, times: int | None = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with an HTTP error.

        429 comes with ``Retry-After`` (whole seconds, rounded up) and
        ``{"ok": false, "error": "ratelimited"}``; other statuses (500, 503, ...) with a
        matching ``ok: false`` body. ``times=None`` keeps failing until :meth:`clear_faults`.
        """
        headers: dict[str, str] = {}
        if status == 429:
            headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
            body: dict[str, Any] = {"ok": False, "error": "ratelimited"}
        else:
            body = {"ok": False, "error": "fatal_error" if status < 503 else "service_unavailable"}
        self._add_fault(method, _Fault(status=status, body=body, headers=headers, remaining=times))

    def error(self, method: str, error: str, *, times: int | None = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 200 ``{"ok": false, "error": error}``."""
        self._add_fault(method, _Fault(status=200, body={"ok": False, "error": error}, headers={}, remaining=times))

    def delay(self, method: str, seconds: float, *, times: int | None = None) -> None:
        """Hold answers to ``method`` for ``seconds`` (for ``times`` calls; ``None``: until cleared)."""
        with self._lock:
            self._delays[method] = _Delay(seconds=seconds, remaining=times)

    def clear_faults(self, method: str | None = None) -> None:
        """Drop scripted failures, errors and delays for ``method`` (all methods if ``None``)."""
        with self._lock:
            if method is None:
                self._faults.clear()
                self._delays.clear()
                self._late.clear()
                self._rate_limits.clear()
            else:
                self._faults.pop(method, None)
                self._delays.pop(method, None)
                self._late.pop(method, None)
                self._rate_limits.pop(method, None)

    def answer_late(self, method: str, seconds: float, *, times: int | None = None) -> None:
        """Carry out calls to ``method`` at once but hold their answers ``seconds`` (``times`` calls; ``None``: all).

        Unlike :meth:`delay`, a ``chat.postMessage`` is posted (it is in :attr:`messages` and
        ``conversations.history``) before a client with a shorter timeout gives up on it.
        """
        with self._lock:
            self._late[method] = _Delay(seconds=seconds, remaining=times)

    def rate_limit(self, method: str, *, per_seconds: float) -> None:
        """Let one call to ``method`` through per ``per_seconds``; others get 429 with ``Retry-After``."""
        with self._lock:
            self._rate_limits[method] = _RateLimit(per_seconds=per_seconds)

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in ``channel`` (not thread replies), oldest first, as they read now."""
        with self._lock:
            found = [m for (c, ts), m in self.messages.items() if c == channel and m.get("thread_ts", ts) == ts]
        return sorted(found, key=lambda m: float(m["ts"]))

    def thread_replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in the thread of ``channel``'s message ``thread_ts`` (not the message itself), oldest first."""
        with self._lock:
            found = [
                m
                for (c, ts), m in self.messages.items()
                if c == channel and ts != thread_ts and m.get("thread_ts") == thread_ts
            ]
        return sorted(found, key=lambda m: float(m["ts"]))

    def set_response(self, method: str, answer: Mapping[str, Any] | Handler) -> None:
        """Replace the default answer for ``method``: a fixed body, or a function of the call's args.

        Auth checks, faults and block validation still apply first.
        """
        if callable(answer):
            handler: Handler = answer
        else:
            fixed = dict(answer)

            def handler(args: dict[str, Any]) -> dict[str, Any]:
                return dict(fixed)

        with self._lock:
            self._handlers[method] = handler

    # -- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        """Calls to ``method`` so far, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Poll until ``method`` was called at least ``count`` times; returns those calls.

        Blocks the calling thread: from a coroutine that shares its loop with the code under
        test, use :meth:`wait_for_async`.

        Raises:
            AssertionError: on timeout, listing every call seen.
        """
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            if time.monotonic() >= deadline:
                raise AssertionError(self._not_seen(method, count, len(calls), timeout))
            time.sleep(0.01)

    async def wait_for_async(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """:meth:`wait_for` that yields to the event loop while polling."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            if time.monotonic() >= deadline:
                raise AssertionError(self._not_seen(method, count, len(calls), timeout))
            await asyncio.sleep(0.01)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The latest content of a message posted (and maybe updated) through the fake."""
        with self._lock:
            return self.messages.get((channel, ts))

    def assert_no_violations(self) -> None:
        """Fail if any call or ``response_url`` post broke Slack's limits."""
        with self._lock:
            found = list(self.violations)
        if found:
            listing = "\n  ".join(str(v) for v in found)
            raise AssertionError(f"{len(found)} Slack limit violation(s):\n  {listing}")

    # -- response_url ------------------------------------------------------------------------

    def new_response_url(self) -> str:
        """A fresh ``response_url`` (``{base}/response/{id}``): 5 uses within 30 minutes from now."""
        response_id = f"R{next(self._response_counter):05d}"
        with self._lock:
            self._response_urls[response_id] = _ResponseUrl(created=self.clock())
            self.responses[response_id] = []
        return f"{self.base_url}/response/{response_id}"

    def responses_to(self, url_or_id: str) -> list[dict[str, Any]]:
        """JSON bodies accepted at a ``response_url`` (pass the URL or its id), oldest first."""
        with self._lock:
            return [post.body for post in self.responses.get(_response_id(url_or_id), [])]

    def wait_for_response(self, url_or_id: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Poll until a ``response_url`` accepted ``count`` posts; returns their bodies.

        Raises:
            AssertionError: on timeout, saying what was received.
        """
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.responses_to(url_or_id)
            if len(bodies) >= count:
                return bodies
            if time.monotonic() >= deadline:
                raise AssertionError(self._response_not_seen(url_or_id, count, bodies, timeout))
            time.sleep(0.01)

    async def wait_for_response_async(
        self, url_or_id: str, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """:meth:`wait_for_response` that yields to the event loop while polling."""
        deadline = time.monotonic() + timeout
        while True:
            bodies = self.responses_to(url_or_id)
            if len(bodies) >= count:
                return bodies
            if time.monotonic() >= deadline:
                raise AssertionError(self._response_not_seen(url_or_id, count, bodies, timeout))
            await asyncio.sleep(0.01)

    # -- server side -------------------------------------------------------------------------

    def connections_used(self) -> int:
        """How many TCP connections the requests so far came on (distinct client address and port)."""
        with self._lock:
            return len(set(self.peers))

    def _note_peer(self, request: Request) -> None:
        client = request.scope.get("client")
        if client:
            with self._lock:
                self.peers.append((str(client[0]), int(client[1])))

    def _build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/oauth/v2/authorize", self._authorize, methods=["GET"]),
                Route("/response/{response_id}", self._response_url, methods=["POST"]),
            ]
        )

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        self._note_peer(request)
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        args: dict[str, Any] = dict(request.query_params)
        sent_json = False
        if raw and content_type == "application/json":
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                args.update(parsed)
                sent_json = True
        elif raw and content_type in ("application/x-www-form-urlencoded", ""):
            args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        _decode_json_strings(args)
        call = SlackCall(method=method, args=args, headers=dict(request.headers), at=self.clock())
        with self._lock:
            self.calls.append(call)
            delay = self._take_delay(method)
            fault = self._take_fault(method) or self._take_rate_limit(method)
            late = _take_countdown(self._late, method)
        if delay:
            await asyncio.sleep(delay)
        if fault is not None:
            status, body, headers = fault.status, dict(fault.body), dict(fault.headers)
        else:
            status, body, headers = 200, self._answer(method, args, call.headers, sent_json=sent_json), {}
        call.status, call.response = status, body
        with self._lock:
            granted = self.oauth.scope_header(call.token or "")
        if granted is not None:
            headers["X-OAuth-Scopes"] = granted
        if late:
            await asyncio.sleep(late)
        call.answered_at = self.clock()
        return JSONResponse(body, status_code=status, headers=headers)

    async def _authorize(self, request: Request) -> Response:
        self._note_peer(request)
        with self._lock:
            return self.oauth.authorize(request)

    def _answer(self, method: str, args: dict[str, Any], headers: dict[str, str], *, sent_json: bool) -> dict[str, Any]:
        if method in TOKENLESS_METHODS:
            with self._lock:
                return self.oauth.tokenless(method, args, headers)
        authorization = headers.get("authorization", "")
        if not authorization:
            return {"ok": False, "error": "not_authed"}
        token = authorization.removeprefix("Bearer ").strip()
        with self._lock:
            issued = self.oauth.tokens.get(token)
        if method in USER_TOKEN_METHODS:  # a person's own token only, one the fake's OAuth issued to them
            if not token.startswith("xoxp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            if issued is None or issued.installer is None:
                return {"ok": False, "error": "invalid_auth"}
        elif (
            not authorization.startswith("Bearer ")
            or not token.startswith(self.accepted_token_prefixes)
            or (self.accepted_tokens is not None and token not in self.accepted_tokens)
        ):
            return {"ok": False, "error": "invalid_auth"}
        if sent_json and method in FORM_ONLY_METHODS:
            self._violate(method, "body", f"{method} takes form or query parameters, not a JSON body")
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            known = self.oauth.answer_for(method, args, token)
        if known is not None:
            return known
        problems = self._validate(method, args)
        if problems:
            for problem in problems:
                path, _, detail = problem.partition(": ")
                self._violate(method, path, detail)
            return {
                "ok": False,
                "error": "invalid_blocks",
                "errors": problems,
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
            }
        with self._lock:
            handler = self._handlers.get(method)
        if handler is not None:
            return handler(args)
        if method in USER_TOKEN_METHODS:
            assert issued is not None and issued.installer is not None
            with self._lock:
                return self._as_person(method, args, issued.installer)
        default = _DEFAULTS.get(method)
        if method in VIEW_METHODS:  # a view belongs to the workspace of the token that opened it
            with self._lock:
                issued = self.oauth.tokens.get(token)
            args = {**args, CALLER_TEAM: issued.team_id if issued is not None and issued.team_id else self.team_id}
        return default(self, args) if default is not None else {"ok": True}

    def _as_person(self, method: str, args: dict[str, Any], user_id: str) -> dict[str, Any]:
        """``users.profile.get/set`` and ``dnd.setSnooze/endSnooze`` for the token's own person
        (api.slack.com/methods/users.profile.set: ``profile`` is a JSON object; ``status_text`` up to 100
        characters; ``status_expiration`` an integer epoch, 0 = never. dnd.setSnooze: ``num_minutes``
        required; dnd.endSnooze: ``snooze_not_active`` when not snoozed)."""
        if method == "users.profile.get":
            return {"ok": True, "profile": self._current_status(user_id)}
        if method == "users.profile.set":
            profile = args.get("profile")
            if not isinstance(profile, dict) or args.get("user") not in (None, user_id):
                return {"ok": False, "error": "invalid_profile"}
            text, emoji = profile.get("status_text", ""), profile.get("status_emoji", "")
            expiration = profile.get("status_expiration", 0)
            if not isinstance(text, str) or len(text) > 100 or not isinstance(emoji, str):
                self._violate(method, "profile.status_text", "must be a string of at most 100 characters")
                return {"ok": False, "error": "invalid_profile"}
            if not isinstance(expiration, int) or expiration < 0:
                self._violate(method, "profile.status_expiration", "must be an integer epoch (0 = never)")
                return {"ok": False, "error": "invalid_profile"}
            self.statuses[user_id] = {"status_text": text, "status_emoji": emoji, "status_expiration": expiration}
            return {"ok": True, "profile": self._current_status(user_id)}
        if method == "dnd.setSnooze":
            try:
                minutes = int(str(args.get("num_minutes")))
            except ValueError:
                return {"ok": False, "error": "invalid_arguments"}
            if minutes < 1:
                return {"ok": False, "error": "invalid_arguments"}
            until = int(self.clock()) + 60 * minutes
            self.snoozes[user_id] = {"num_minutes": minutes, "until": until}
            return {"ok": True, "snooze_enabled": True, "snooze_endtime": until, "snooze_remaining": 60 * minutes}
        snooze = self.snoozes.pop(user_id, None)
        if snooze is None or snooze["until"] <= self.clock():
            return {"ok": False, "error": "snooze_not_active"}
        return {"ok": True, "dnd_enabled": True, "snooze_enabled": False}

    def _validate(self, method: str, args: dict[str, Any]) -> list[str]:
        problems: list[str] = []
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            if args.get("blocks") is not None:
                problems += check_blocks(args["blocks"])
            attachments = args.get("attachments")
            if isinstance(attachments, list):
                for index, attachment in enumerate(attachments):
                    if isinstance(attachment, dict) and attachment.get("blocks") is not None:
                        problems += check_blocks(attachment["blocks"], where=f"attachments[{index}].blocks")
        elif method in MODAL_METHODS:
            problems += _check_modal_call(method, args)
        elif method == "views.publish":
            view = args.get("view")
            if not isinstance(view, dict):
                problems.append("view: must be a view object")
            else:
                problems += check_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS, where="view.blocks")
        return problems

    def _violate(self, source: str, path: str, problem: str) -> None:
        with self._lock:
            self.violations.append(BlockViolation(source=source, path=path, problem=problem))

    async def _response_url(self, request: Request) -> Response:
        response_id = request.path_params["response_id"]
        self._note_peer(request)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        if not isinstance(body, dict):
            body = {"_raw": body}
        with self._lock:
            state = self._response_urls.get(response_id)
            if state is None:
                refusal: str | None = "no_service"
            elif self.clock() - state.created > RESPONSE_URL_MAX_AGE or state.uses >= RESPONSE_URL_MAX_USES:
                refusal = "expired_url"
            else:
                refusal = None
                state.uses += 1
            if refusal is not None:
                self.rejected_responses.append((response_id, body, refusal))
                return JSONResponse({"ok": False, "error": refusal}, status_code=404)
            problems = check_blocks(body["blocks"]) if body.get("blocks") is not None else []
            self.responses[response_id].append(ResponsePost(body=body, at=self.clock()))
        if problems:
            for problem in problems:
                path, _, detail = problem.partition(": ")
                self._violate(f"response_url {response_id}", path, detail)
            return JSONResponse({"ok": False, "error": "invalid_blocks", "errors": problems}, status_code=400)
        return JSONResponse({"ok": True})

    # -- helpers ---------------------------------------------------------------------------

    def _add_fault(self, method: str, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
        return fault

    def _take_delay(self, method: str) -> float:
        delay = self._delays.get(method)
        if delay is None:
            return 0.0
        if delay.remaining is not None:
            delay.remaining -= 1
            if delay.remaining <= 0:
                del self._delays[method]
        return delay.seconds

    def _take_rate_limit(self, method: str) -> _Fault | None:
        limit = self._rate_limits.get(method)
        if limit is None:
            return None
        now = time.monotonic()
        if limit.next_at <= now:
            limit.next_at = now + limit.per_seconds
            return None
        wait = str(max(1, math.ceil(limit.next_at - now)))
        body = {"ok": False, "error": "ratelimited"}
        return _Fault(status=429, body=body, headers={"Retry-After": wait}, remaining=1)

    def _with_thread_fields(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """A thread's parent as Slack returns it: with ``reply_count``, ``latest_reply`` and who replied."""
        ts = str(message["ts"])
        if message.get("thread_ts", ts) != ts:
            return dict(message)  # a reply
        replies = self.thread_replies(channel, ts)
        if not replies:
            return dict(message)
        users = sorted({str(m.get("user") or m.get("bot_id")) for m in replies})
        return {
            **message,
            "thread_ts": ts,
            "reply_count": len(replies),
            "reply_users_count": len(users),
            "reply_users": users,
            "latest_reply": replies[-1]["ts"],
        }

    def _next_ts(self) -> str:
        # Like Slack's: the clock's time in microseconds (so ``oldest``/``latest`` work), unique and rising.
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 100)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _not_seen(self, method: str, count: int, got: int, timeout: float) -> str:
        with self._lock:
            seen = [f"{c.method} -> {c.status} {c.response}" for c in self.calls]
        listing = "\n  ".join(seen) or "(none)"
        return f"expected >= {count} call(s) to {method} within {timeout}s, got {got}; all calls:\n  {listing}"

    def _response_not_seen(self, url_or_id: str, count: int, bodies: list[Any], timeout: float) -> str:
        with self._lock:
            rejected = [r for r in self.rejected_responses if r[0] == _response_id(url_or_id)]
        return (
            f"expected >= {count} post(s) to response_url {url_or_id} within {timeout}s, "
            f"got {len(bodies)}: {bodies}; refused: {rejected}"
        )


def _response_id(url_or_id: str) -> str:
    return url_or_id.rstrip("/").rsplit("/", 1)[-1]


# -- default answers -------------------------------------------------------------------------


def _auth_test(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "url": TEAM_URL,
        "team": TEAM_NAME,
        "user": "phonebot",
        "team_id": fake.team_id,
        "user_id": fake.bot_user_id,
        "bot_id": fake.bot_id,
        "is_enterprise_install": False,
    }


def _bots_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("bot") != fake.bot_id:
        return {"ok": False, "error": "bot_not_found"}
    return {"ok": True, "bot": {"id": fake.bot_id, "app_id": fake.app_id, "name": "phonebot", "deleted": False}}


def _message_fields(args: dict[str, Any]) -> dict[str, Any]:
    return {key: args[key] for key in ("text", "blocks", "attachments", "metadata") if key in args}


def _has_content(args: dict[str, Any]) -> bool:
    return any(args.get(key) for key in ("text", "blocks", "attachments"))


def _post_message(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel = args.get("channel")
    if not channel:
        return {"ok": False, "error": "channel_not_found"}
    if not _has_content(args):
        return {"ok": False, "error": "no_text"}
    with fake._lock:
        ts = fake._next_ts()
        message = {"type": "message", "user": fake.bot_user_id, "bot_id": fake.bot_id, "ts": ts}
        message.update(_message_fields(args))
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        fake.messages[(str(channel), ts)] = message
    return {"ok": True, "channel": channel, "ts": ts, "message": message}


def _update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = args.get("channel"), args.get("ts")
    if not channel:
        return {"ok": False, "error": "channel_not_found"}
    if not ts:
        return {"ok": False, "error": "message_not_found"}
    if not _has_content(args):
        return {"ok": False, "error": "no_text"}
    with fake._lock:
        message = dict(fake.messages.get((str(channel), str(ts)), {"type": "message", "ts": ts}))
        message.update(_message_fields(args))
        message["edited"] = {"user": fake.bot_user_id, "ts": fake._next_ts()}
        fake.messages[(str(channel), str(ts))] = message
    return {"ok": True, "channel": channel, "ts": ts, "text": args.get("text", ""), "message": message}


def _post_ephemeral(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("channel"):
        return {"ok": False, "error": "channel_not_found"}
    if not args.get("user"):
        return {"ok": False, "error": "user_not_in_channel"}
    if not _has_content(args):
        return {"ok": False, "error": "no_text"}
    with fake._lock:
        ts = fake._next_ts()
    return {"ok": True, "message_ts": ts}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _read_window(
    fake: FakeSlack, args: dict[str, Any], channel: str, pick: Callable[[Callable[[float], bool]], list[dict[str, Any]]]
) -> dict[str, Any]:
    """One page of the messages ``pick`` selects with the ``oldest``/``latest``/``inclusive`` test it is given.

    The cursor is the offset of the next page; ``metadata`` is left out unless ``include_all_metadata``.
    """
    try:
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or math.inf)
        limit = int(args.get("limit") or fake.history_page_max)
        offset = int(str(args.get("cursor") or "next:0").removeprefix("next:"))
    except ValueError:
        return {"ok": False, "error": "invalid_arguments"}
    inclusive = _truthy(args.get("inclusive"))
    limit = max(1, min(limit, fake.history_page_max))

    def inside(ts: float) -> bool:
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    found = [fake._with_thread_fields(channel, m) for m in pick(inside)]
    page = found[offset : offset + limit]
    if not _truthy(args.get("include_all_metadata")):
        page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
    has_more = offset + limit < len(found)
    return {
        "ok": True,
        "messages": page,
        "has_more": has_more,
        "response_metadata": {"next_cursor": f"next:{offset + limit}" if has_more else ""},
    }


def _conversations_history(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """A channel's messages (no thread replies), newest first within ``oldest``..``latest``."""
    channel = str(args.get("channel") or "")
    if not channel:
        return {"ok": False, "error": "channel_not_found"}

    def pick(inside: Callable[[float], bool]) -> list[dict[str, Any]]:
        return [m for m in reversed(fake.channel_messages(channel)) if inside(float(m["ts"]))]

    answer = _read_window(fake, args, channel, pick)
    return {**answer, "pin_count": 0} if answer["ok"] else answer


def _conversations_replies(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """One thread: its parent first, then the replies within ``oldest``..``latest``, oldest first."""
    channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
    if not channel:
        return {"ok": False, "error": "channel_not_found"}
    if not ts:
        return {"ok": False, "error": "invalid_arguments"}
    with fake._lock:
        message = fake.messages.get((channel, ts))
    if message is None:
        return {"ok": False, "error": "thread_not_found"}
    parent_ts = str(message.get("thread_ts") or ts)
    with fake._lock:
        parent = fake.messages.get((channel, parent_ts))
    if parent is None:
        return {"ok": False, "error": "thread_not_found"}

    def pick(inside: Callable[[float], bool]) -> list[dict[str, Any]]:
        replies = fake.thread_replies(channel, parent_ts)
        return [parent, *(m for m in replies if inside(float(m["ts"])))]

    return _read_window(fake, args, channel, pick)


def _views_publish(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    user_id = args.get("user_id")
    view = args.get("view")
    if not user_id or not isinstance(view, dict):
        return {"ok": False, "error": "invalid_arguments"}
    with fake._lock:
        number = len(fake.home_views) + 1
        team = args.get(CALLER_TEAM, fake.team_id)
        published = {"id": f"V{number:05d}", "team_id": team, "app_id": "A0001", **view}
        published.setdefault("hash", fake._next_ts())
        fake.home_views[str(user_id)] = published
    return {"ok": True, "view": published}


def _users_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    with fake._lock:
        user = fake.users.get(str(args.get("user", "")))
    if user is None:
        return {"ok": False, "error": "user_not_found"}
    return {"ok": True, "user": user}


def _users_lookup_by_email(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    email = str(args.get("email", "")).lower()
    with fake._lock:
        found = [u for u in fake.users.values() if str(u["profile"].get("email", "")).lower() == email]
    if not email or not found:
        return {"ok": False, "error": "users_not_found"}
    return {"ok": True, "user": found[0]}


# -- modals -------------------------------------------------------------------------------------

MODAL_METHODS = frozenset({"views.open", "views.push", "views.update"})
#: How long the fake keeps an idle client connection open.
KEEP_ALIVE_SECONDS = 60
VIEW_METHODS = MODAL_METHODS | {"views.publish"}
#: Where :meth:`FakeSlack._answer` tells a views method the calling token's workspace.
CALLER_TEAM = "__caller_team_id"


def _check_modal_call(method: str, args: dict[str, Any]) -> list[str]:
    """The body format of a modal call and the view's hard limits (``path: problem`` strings)."""
    problems: list[str] = []
    if method in ("views.open", "views.push") and not args.get("trigger_id"):
        problems.append("trigger_id: required")
    if method == "views.update" and not (args.get("view_id") or args.get("external_id")):
        problems.append("view_id: view_id or external_id is required")
    view = args.get("view")
    if not isinstance(view, dict):
        return [*problems, "view: must be a view object"]
    if view.get("type") != "modal":
        problems.append(f"view.type: {view.get('type')!r}, expected 'modal'")
    for key in ("title", "close", "submit"):
        required = key == "title"
        _check_text(problems, f"view.{key}", view.get(key), VIEW_TITLE_MAX, required=required)
        if isinstance(view.get(key), dict) and view[key].get("type") != "plain_text":
            problems.append(f"view.{key}.type: must be plain_text")
    _check_len(problems, "view.private_metadata", view.get("private_metadata"), VIEW_PRIVATE_METADATA_MAX)
    _check_len(problems, "view.callback_id", view.get("callback_id"), VIEW_CALLBACK_ID_MAX)
    problems += check_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS, where="view.blocks")
    return problems


def _views_open(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    with fake._lock:
        view_id = f"VM{len(fake.views) + 1:05d}"
        opened = {
            "id": view_id,
            "team_id": args.get(CALLER_TEAM, fake.team_id),
            "app_id": "A0001",
            "root_view_id": view_id,
            "state": {"values": {}},
            **args["view"],
            "hash": fake._next_ts(),
        }
        fake.views[view_id] = opened
    return {"ok": True, "view": opened}


def _views_update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    with fake._lock:
        view_id = str(args.get("view_id") or "")
        current = fake.views.get(view_id)
        if current is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        updated = {**current, **args["view"], "id": view_id, "hash": fake._next_ts()}
        fake.views[view_id] = updated
    return {"ok": True, "view": updated}


_DEFAULTS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "bots.info": _bots_info,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "chat.postEphemeral": _post_ephemeral,
    "conversations.history": _conversations_history,
    "conversations.replies": _conversations_replies,
    "views.publish": _views_publish,
    "views.open": _views_open,
    "views.push": _views_open,
    "views.update": _views_update,
    "users.info": _users_info,
    "users.lookupByEmail": _users_lookup_by_email,
}
