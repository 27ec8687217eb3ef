"""`newsletter serve` as a real process: lease in /healthz, standby, web-only, send now, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.digest.build import build_issue
from newsletter.editors import review
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from tests.schedule.conftest import EDITOR, READERS, fill
from tests.web.live import free_port

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
# The lease holder and each process's role are shown to operators only.
HEALTH_TOKEN = "health-token-for-tests"


def _health(port: int) -> dict[str, Any] | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            body: dict[str, Any] = json.load(answer)
            return body
    except OSError:
        return None


def _until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def serve(
    runtime: Runtime, tmp_path: Path
) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], int]]]:
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        "NEWSLETTER_SITE_URL": "https://news.example.org",
        "NEWSLETTER_SCHEDULE__SEND_POLL_SECONDS": "0.5",
        "NEWSLETTER_SCHEDULE__LEASE_SECONDS": "3",
        "NEWSLETTER_WEB__HEALTH_TOKEN": HEALTH_TOKEN,
    }
    processes: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        log = (tmp_path / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            [NEWSLETTER, "serve", "--port", str(port), *extra],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        _until(lambda: process.poll() is None and _health(port) is not None)
        return process, port

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_one_scheduler_per_database_and_sigterm_exits_cleanly(
    runtime: Runtime, serve: Callable[..., tuple[subprocess.Popen[bytes], int]], tmp_path: Path
) -> None:
    first, first_port = serve()
    _until(lambda: (_health(first_port) or {})["scheduler"]["this_process"] == "leading")
    leader = _health(first_port)
    assert leader is not None
    holder = leader["scheduler"]["holder"]
    assert holder.split(":")[1] == str(first.pid)
    assert leader["scheduler"]["running"] is True

    second, second_port = serve()
    web, web_port = serve("--web-only", "--no-access-log")
    for port, role in ((second_port, "standby"), (web_port, "web-only")):
        body = _health(port)
        assert body is not None
        assert body["scheduler"]["this_process"] == role
        assert body["scheduler"]["holder"] == holder

    # SIGTERM: the leader stops taking jobs, hands the lease back and exits 0.
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    # The standby takes over on its next renewal (every lease_seconds / 3).
    _until(lambda: (_health(second_port) or {})["scheduler"]["this_process"] == "leading")
    body = _health(web_port)
    assert body is not None
    assert body["scheduler"]["holder"].split(":")[1] == str(second.pid)

    for process in (second, web):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    # Requests are logged one line each, unless the process was told to leave that to a proxy.
    assert '"GET /healthz HTTP/1.1" 200' in (tmp_path / f"serve-{second_port}.log").read_text()
    assert "GET /healthz" not in (tmp_path / f"serve-{web_port}.log").read_text()


def test_send_now_writes_one_message_per_subscriber_to_the_outbox(
    runtime: Runtime, serve: Callable[..., tuple[subprocess.Popen[bytes], int]]
) -> None:
    now = datetime.now(UTC)
    fill(runtime, now)
    with runtime.sessions.begin() as session:
        issue_id = build_issue(session, runtime.settings, now).issue_id
    process, _port = serve()
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        review.send_now(issue, EDITOR, datetime.now(UTC))  # what the admin's button does
    outbox = runtime.settings.outbox_dir

    def sent() -> bool:
        with runtime.sessions() as session:
            return session.scalar(select(Issue.status)) == IssueStatus.SENT

    _until(sent)
    recipients = sorted(
        path.read_bytes().split(b"\r\n", 2)[1].decode().removeprefix("X-Envelope-To: ")
        for path in outbox.glob("*.eml")
    )
    assert recipients == sorted(READERS)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
