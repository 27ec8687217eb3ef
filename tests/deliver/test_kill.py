"""`newsletter digest send` killed with SIGKILL mid-send, then run again: nobody missed."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from subprocess import Popen

from newsletter.runtime import Runtime
from tests.cli.process import NEWSLETTER, run, service_env
from tests.deliver.conftest import make_world
from tests.smtpd import SmtpServer

CONNECTIONS, BATCH = 3, 10


def _env(runtime: Runtime, smtp: SmtpServer) -> dict[str, str]:
    return service_env(
        runtime,
        smtp.url,
        DELIVERY__CONNECTIONS=str(CONNECTIONS),
        DELIVERY__BATCH_SIZE=str(BATCH),
    )


def _sending(env: dict[str, str], issue_id: int, smtp: SmtpServer, received: int) -> Popen[str]:
    """A `digest send` surely mid-send: the mail server took `received` messages and holds the
    next one until `smtp.release()`, so the sender cannot finish first on any machine."""
    smtp.faults.hold_after = received
    process = subprocess.Popen(
        [NEWSLETTER, "digest", "send", str(issue_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60  # a hang guard only
    while smtp.held < 1:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sender never reached the held message"
        time.sleep(0.01)
    return process


def test_sigkill_then_rerun_misses_nobody(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=150)
    smtp.faults.delay = 0.01
    env = _env(runtime, smtp)
    process = _sending(env, world.issue_id, smtp, 40)
    process.send_signal(signal.SIGKILL)
    process.wait()
    smtp.release()
    killed_at = len(smtp.received)
    assert 40 <= killed_at < len(world.eligible)

    smtp.faults.delay = 0
    rerun = run("digest", "send", str(world.issue_id), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert "sent;" in rerun.stdout
    counts = Counter(r for received in smtp.received for r in received.recipients)
    assert set(counts) == set(world.eligible)
    duplicates = sum(n - 1 for n in counts.values())
    # The documented in-flight window: outcomes not yet committed plus one per connection.
    assert duplicates <= BATCH + CONNECTIONS


def test_sigterm_finishes_in_flight_and_exits_cleanly(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=100)
    smtp.faults.delay = 0.01
    env = _env(runtime, smtp)
    process = _sending(env, world.issue_id, smtp, 20)
    process.send_signal(signal.SIGTERM)
    # The handler only sets a flag; the held message keeps the sender mid-send while it runs.
    time.sleep(1)
    smtp.release()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "sending;" in stdout
    assert "run digest send again" in stdout
    smtp.faults.delay = 0
    rerun = run("digest", "send", str(world.issue_id), env=env)
    assert rerun.returncode == 0, rerun.stderr
    counts = Counter(r for received in smtp.received for r in received.recipients)
    # SIGTERM records everything it handed over: not a single duplicate.
    assert counts == Counter(dict.fromkeys(world.eligible, 1))
