"""``phonebot serve`` as a real child process on loopback, for tests that need the real HTTP server.

In-process servers (``LoopbackServer``) run the ASGI app under a plain uvicorn; what the served
process adds — uvicorn's options, the connection guard, the file-descriptor limit, logging — is
only exercised here. stderr goes to a file, so a chatty server can never block on a full pipe,
and tests read it afterwards (no tracebacks, nothing secret).
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.fakes.fixtures import SIGNING_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PhonebotProcess:
    """One ``phonebot serve`` child; ``fd_limit`` sets its ``RLIMIT_NOFILE`` (as ``ulimit -n`` would)."""

    def __init__(
        self,
        config: Path,
        *,
        redis_url: str,
        slack_api_url: str,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        fd_limit: int | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"phonebot-{self.port}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "PHONEBOT_"))}
        clean.update(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack_api_url,
            REDIS_URL=redis_url,
            PHONEBOT_CONFIG=str(config),
            PHONEBOT_WEBHOOK_SECRET="process-test-webhook-secret-0123",
            # One process per test unless it asks for worker processes (each costs a Python start).
            PHONEBOT_COMMAND_WORKERS="0",
            **(env or {}),
        )

        def limit_fds() -> None:
            if fd_limit is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

        self._log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=clean,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            preexec_fn=limit_fds,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.log()
            assert time.monotonic() < deadline, "phonebot serve did not come up"
            time.sleep(0.1)

    def log(self) -> str:
        """Everything the process wrote to stderr so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def peak_rss_kib(self) -> int:
        """The process's peak resident memory (``VmHWM``), in KiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc status")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
