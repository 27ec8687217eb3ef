"""`newsletter digest send` killed with SIGKILL mid-send, then run again: nobody missed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from newsletter.runtime import Runtime
from tests.deliver.conftest import make_world
from tests.smtpd import SmtpServer

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
CONNECTIONS, BATCH = 3, 10


def _env(runtime: Runtime, smtp: SmtpServer) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return {
        **clean,
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_SMTP_URL": smtp.url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        "NEWSLETTER_SITE_URL": "https://news.example.org",
        "NEWSLETTER_DELIVERY__CONNECTIONS": str(CONNECTIONS),
        "NEWSLETTER_DELIVERY__BATCH_SIZE": str(BATCH),
    }


def test_sigkill_then_rerun_misses_nobody(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=150)
    smtp.faults.delay = 0.01
    env = _env(runtime, smtp)
    process = subprocess.Popen(
        [NEWSLETTER, "digest", "send", str(world.issue_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(smtp.received) < 40 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(smtp.received)
    assert 40 <= killed_at < len(world.eligible)

    smtp.faults.delay = 0
    rerun = subprocess.run(
        [NEWSLETTER, "digest", "send", str(world.issue_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
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
    process = subprocess.Popen(
        [NEWSLETTER, "digest", "send", str(world.issue_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(smtp.received) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "sending;" in stdout
    assert "run digest send again" in stdout
    smtp.faults.delay = 0
    rerun = subprocess.run(
        [NEWSLETTER, "digest", "send", str(world.issue_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    counts = Counter(r for received in smtp.received for r in received.recipients)
    # SIGTERM records everything it handed over: not a single duplicate.
    assert counts == Counter(dict.fromkeys(world.eligible, 1))
