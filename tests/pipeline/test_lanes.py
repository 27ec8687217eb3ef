"""A worker's lanes send the issue, and the lane that finds it sent lists it in the archive feed."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

from newsletter.deliver.relays import relays_for
from newsletter.deliver.state import start
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Issue, IssueStatus
from newsletter.pipeline.lanes import send_lane
from newsletter.runtime import Runtime
from tests.cli.process import NEWSLETTER, run, service_env
from tests.deliver.conftest import make_world, with_delivery
from tests.pipeline.archive import archive_links
from tests.smtpd import SmtpServer

ARCHIVED = ["https://news.example.org/archive/2026-W48"]


def _status(runtime: Runtime, issue_id: int) -> IssueStatus:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return issue.status


def test_the_last_lane_lists_the_sent_issue_in_the_archive(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    """One lane run as Celery runs it (each task queues its successor), minus the broker."""
    world = make_world(runtime, count=12)
    fast = with_delivery(runtime, connections=1, batch_size=5, claim_size=5)
    start(fast, world.issue_id, lambda *_: None)  # what `digest send` does before queueing
    relays = relays_for(fast.settings, lambda: SmtpTransport.from_url(smtp.url, timeout=5))
    queued = [world.issue_id]
    said: list[str] = []

    def again(_countdown: float) -> None:
        queued.append(world.issue_id)

    while queued and len(said) < 50:  # a bound only: three batches and a last look suffice
        queued.pop()
        said.append(send_lane(fast, world.issue_id, again, relays))
    assert said[-1] == f"issue {world.issue_id}: sent"
    assert Counter(r for m in smtp.received for r in m.recipients) == Counter(
        dict.fromkeys(world.eligible, 1)
    )
    assert archive_links(runtime) == ARCHIVED


def _worker_env(runtime: Runtime, smtp: SmtpServer, redis_url: str, prefix: str) -> dict[str, str]:
    return service_env(
        runtime,
        smtp.url,
        BROKER_URL=redis_url,
        DELIVERY__LANES="2",
        DELIVERY__CLAIM_SIZE="5",
        DELIVERY__REDIS_PREFIX=prefix,
    )


def test_a_real_worker_lists_a_detached_send_in_the_archive(
    runtime: Runtime, smtp: SmtpServer, redis_url: str, redis_prefix: str
) -> None:
    """`digest send --detach` only queues: the worker's last batch alone must update the feed."""
    world = make_world(runtime, count=12)
    env = _worker_env(runtime, smtp, redis_url, redis_prefix)
    worker = subprocess.Popen(
        [NEWSLETTER, "worker", "--pool", "solo", "--loglevel", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        queued = run("digest", "send", str(world.issue_id), "--detach", env=env)
        assert queued.returncode == 0, queued.stderr
        assert f"issue {world.issue_id}: queued 2 batch tasks" in queued.stdout
        deadline = time.monotonic() + 60  # a hang guard only
        while archive_links(runtime) != ARCHIVED and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()
            time.sleep(0.1)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert _status(runtime, world.issue_id) == IssueStatus.SENT
    assert archive_links(runtime) == ARCHIVED
    assert Counter(r for m in smtp.received for r in m.recipients) == Counter(
        dict.fromkeys(world.eligible, 1)
    )
