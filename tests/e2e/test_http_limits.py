"""HTTP is bounded before it is trusted: ``phonebot serve`` as a child process, over real sockets.

* bodies are capped while read (413), before any authentication, and memory stays flat;
* unsigned or malformed ``/slack/events`` get 400/401, never a 500 with a traceback;
* half-open connections cannot exhaust file descriptors or stall ``/healthz``; a stalled body
  gets 408; a client that hangs up mid-body leaves no traceback.
"""

from __future__ import annotations

import concurrent.futures
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.fakes.phonebot_process import PhonebotProcess
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackSigner

pytestmark = pytest.mark.e2e

FD_LIMIT = 256  # as `ulimit -n 256`: the guard derives a small connection cap from it
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, fake_slack_server: FakeSlack
) -> Iterator[PhonebotProcess]:
    work = tmp_path_factory.mktemp("http-limits")
    config = work / "phonebot.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "default_country": "LT",
                "timezone": "Europe/Vilnius",
                "vendors": {"tele2": {"base_url": "http://127.0.0.1:9/api/v2/", "api_key": "k"}},
            }
        )
    )
    process = PhonebotProcess(
        config,
        redis_url=redis_server.url.rsplit("/", 1)[0] + "/9",
        slack_api_url=fake_slack_server.url,
        log_dir=work,
        env={"PHONEBOT_HTTP_HEADER_TIMEOUT_SECONDS": "1", "PHONEBOT_HTTP_BODY_TIMEOUT_SECONDS": "1"},
        fd_limit=FD_LIMIT,
    )
    yield process
    process.stop()
    assert "Traceback" not in process.log()


def _raw(served: PhonebotProcess, head: bytes, body: bytes = b"", *, read: bool = True) -> bytes:
    """Send raw bytes on a fresh connection; the server's answer (read until it closes)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head + body)
        if not read:
            return b""
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def _chunked(total: int, piece: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * piece
        sent += piece


def test_a_declared_oversize_body_is_refused_before_it_is_sent(served: PhonebotProcess) -> None:
    for path in ("/webhooks/tele2/account.x/LostCallerAdded", "/slack/events"):
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {100 * MiB}\r\n\r\n".encode()
        answer = _raw(served, head)  # nothing of the body is sent: the answer comes anyway
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        assert b"connection: close" in answer.lower()


def test_streamed_bodies_over_the_cap_are_cut_off_and_memory_stays_flat(served: PhonebotProcess) -> None:
    before = served.peak_rss_kib()

    def upload(path: str) -> int:
        try:
            return httpx.post(served.url + path, content=_chunked(40 * MiB), timeout=30).status_code
        except httpx.HTTPError:
            return 413  # the server closed the connection while the rest was still being sent

    paths = ["/webhooks/tele2/account.x/LostCallerAdded", "/slack/events"] * 4
    with concurrent.futures.ThreadPoolExecutor(len(paths)) as pool:
        statuses = list(pool.map(upload, paths))
    assert statuses == [413] * len(paths)
    growth_mib = (served.peak_rss_kib() - before) / 1024
    assert growth_mib < 40, f"8 x 40 MiB uploads grew the peak RSS by {growth_mib:.0f} MiB"
    assert httpx.get(served.url + "/healthz", timeout=2).status_code == 200


def test_unsigned_or_malformed_slack_requests_are_4xx_without_a_traceback(
    served: PhonebotProcess, signer: SlackSigner
) -> None:
    url = served.url + "/slack/events"
    junk = b'{"type": "event_callback", "event": '
    assert httpx.post(url, content=junk, headers={"Content-Type": "application/json"}).status_code == 401
    assert httpx.post(url, content=b"\xff\xfe", headers={"X-Slack-Request-Timestamp": "1"}).status_code == 401
    headers = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00", "Content-Type": "application/json"}
    assert httpx.post(url, content=junk, headers=headers).status_code == 401
    body, signed = signer.sign(junk, content_type="application/json")
    forged = {**signed, "X-Slack-Signature": signed["X-Slack-Signature"][:-1].encode() + b"\xe9"}
    assert httpx.post(url, content=body, headers=forged).status_code == 401
    body, signed = signer.sign(junk, content_type="application/json")
    assert httpx.post(url, content=body, headers=signed).status_code == 400  # signed, but not JSON
    assert "Traceback" not in served.log()


def test_half_open_connections_cannot_exhaust_descriptors_or_stall_healthz(served: PhonebotProcess) -> None:
    idle: list[socket.socket] = []
    try:
        for number in range(FD_LIMIT * 2):  # more than the process may even open
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
            if number % 2:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost:")  # headers that never finish
            idle.append(sock)
        started = time.monotonic()
        for _ in range(5):
            assert httpx.get(served.url + "/healthz", timeout=2).status_code == 200
        assert time.monotonic() - started < 2
        assert served.open_fds() < FD_LIMIT - 20

        # Past the header timeout the server has closed every one of them.
        deadline = time.monotonic() + 10
        for sock in idle:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                closed = sock.recv(1024) == b""
            except ConnectionResetError:  # closed with our unread bytes in its buffer: a reset
                closed = True
            assert closed, "a half-open connection was still open after the header timeout"
    finally:
        for sock in idle:
            sock.close()
    log = served.log()
    assert "Too many open files" not in log and "Traceback" not in log


def test_a_stalled_body_gets_408_and_a_client_gone_mid_body_no_traceback(served: PhonebotProcess) -> None:
    head = b"POST /webhooks/tele2/account.x/LostCallerAdded HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    answer = _raw(served, head, b'{"event":')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]

    for _ in range(3):
        _raw(served, head, b'{"eve', read=False)  # and hangs up
    assert httpx.get(served.url + "/healthz", timeout=2).status_code == 200
    assert "Traceback" not in served.log()
