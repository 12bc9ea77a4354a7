"""``phonebot serve`` hands slash commands' work to a worker process it starts, watches and restarts.

A real ``phonebot serve --simulate`` on Redis: the ack comes from the serving process, the answer
(through ``response_url``) from its command worker — a child at a lower CPU priority. Killing the
child doesn't lose the next command: the serving process starts another, and ``/readyz`` says so
until it checks in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from bot.commands.queue import WORKERS
from tests.e2e.test_cli import PHONEBOT, _env, _free_port, wait_ready
from tests.fakes.fixtures import SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import SlackClientSim, SlackSigner

pytestmark = pytest.mark.e2e


@dataclass
class Served:
    base: str
    process: subprocess.Popen[str]
    db: redis.Redis
    log: Path

    def worker_pids(self) -> set[int]:
        """The pids of the command workers that beat (consumer names are ``host:pid``)."""
        return {int(name.rsplit(":", 1)[1]) for name in self.db.zrange(WORKERS, 0, -1)}


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def served(fake_slack: FakeSlack, redis_url: str, tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    env = _env(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        REDIS_URL=redis_url,
    )
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*PHONEBOT, "serve", "--simulate", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base))
        yield Served(base, process, redis.Redis.from_url(redis_url, decode_responses=True), log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _command(served: Served, slack: FakeSlack, text: str) -> str:
    """Send ``/phonebot <text>``; returns its response_url (the ack itself says nothing)."""
    signer = SlackSigner(SIGNING_SECRET)
    url = slack.new_response_url()
    body, headers = signer.slash_command("/phonebot", text, user_id="U0ALICE", user_name="alice", response_url=url)
    ack = SlackClientSim(served.base, signer).send_sync(body, headers)
    assert ack.status_code == 200 and not ack.content.strip(), ack.text
    return url


def test_the_answer_comes_from_a_nicer_child_and_a_killed_child_is_replaced(
    served: Served, fake_slack: FakeSlack
) -> None:
    wait_ready(served.base)
    [worker] = served.worker_pids()
    assert worker != served.process.pid and _parent_of(worker) == served.process.pid
    assert os.getpriority(os.PRIO_PROCESS, worker) - os.getpriority(os.PRIO_PROCESS, served.process.pid) == 10
    first = fake_slack.wait_for_response(_command(served, fake_slack, "whoami"), timeout=15)
    assert first and "text" in first[0]

    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: not _alive(worker))
    # Sent while no worker runs: it waits in Redis, and the next worker answers it.
    waiting = _command(served, fake_slack, "whoami")
    wait_until(lambda: served.worker_pids() - {worker})
    assert fake_slack.wait_for_response(waiting, timeout=20)
    [replacement] = served.worker_pids() - {worker}
    assert _parent_of(replacement) == served.process.pid
    wait_ready(served.base)
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=20)
    wait_until(lambda: not _alive(replacement), timeout=10)  # stopping serve stops its worker
    log = served.log.read_text()
    assert "command worker 1 started" in log and "exited with -9" in log
