"""Real Celery workers against PostgreSQL, Redis and a real SMTP server: one is SIGKILLed midway.

20,000 subscribers, three worker processes, a global rate limit; every subscriber gets exactly one
message apart from the killed worker's in-flight window, and the limit holds at the server. The
killed worker's claimed rows go out once its claims run out (delivery.claim_seconds, renewed by
live workers' heartbeats): how long that took is measured and reported.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from newsletter.deliver.plan import delivery_counts
from newsletter.deliver.store import OPEN
from newsletter.models import Delivery, Issue, IssueStatus
from newsletter.runtime import Runtime
from subscribers.models import Subscriber
from tests import factories
from tests.cli.process import NEWSLETTER, service_env
from tests.deliver.conftest import NOW
from tests.smtpd import SmtpServer

COUNT = 20_000
RATE = 300.0
WORKERS, CONCURRENCY, CONNECTIONS, BATCH = 3, 3, 2, 20


def _issue_for_many(runtime: Runtime, count: int) -> int:
    html, text = factories.variant_text("everything")
    with runtime.sessions.begin() as session:
        issue = factories.issue(
            NOW,
            status=IssueStatus.APPROVED,
            subject="Weekly",
            variants=[factories.variant(NOW, html, text)],
        )
        session.add(issue)
        session.flush()
        issue_id = issue.id
    factories.insert_readers(runtime.sessions, count, NOW)
    return issue_id


def _env(runtime: Runtime, smtp: SmtpServer, redis_url: str, prefix: str) -> dict[str, str]:
    return service_env(
        runtime,
        smtp.url,
        BROKER_URL=redis_url,
        SECRET_KEY="workers-test-secret-0123456789-abcdefghijklmnop",
        DELIVERY__RATE_PER_SECOND=str(RATE),
        DELIVERY__CONNECTIONS=str(CONNECTIONS),
        DELIVERY__BATCH_SIZE=str(BATCH),
        DELIVERY__CLAIM_SIZE="60",
        DELIVERY__TIMEOUT_SECONDS="3",
        DELIVERY__LANES=str(WORKERS * CONCURRENCY + 3),
        DELIVERY__REDIS_PREFIX=prefix,
    )


@pytest.mark.slow
def _held_by(runtime: Runtime, pid: int) -> set[str]:
    """The addresses of open deliveries a worker process holds claims on."""
    with runtime.sessions() as session:
        return set(
            session.scalars(
                select(Subscriber.email)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Delivery.claimed_by.like(f"worker:%:{pid}:%"))
                .where(Delivery.status.in_(OPEN))
            )
        )


def test_workers_send_everyone_once_within_the_rate_when_one_is_killed(
    runtime: Runtime,
    smtp: SmtpServer,
    redis_url: str,
    redis_prefix: str,
    record_property: Callable[[str, object], None],
) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("workers on several machines share PostgreSQL")
    issue_id = _issue_for_many(runtime, COUNT)
    env = _env(runtime, smtp, redis_url, redis_prefix)
    workers = [
        subprocess.Popen(
            [
                NEWSLETTER,
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(CONCURRENCY),
                "--loglevel",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(WORKERS)
    ]
    try:
        sender = subprocess.Popen(
            [NEWSLETTER, "digest", "send", str(issue_id)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while len(smtp.received) < COUNT // 3 and time.monotonic() < deadline:
            assert sender.poll() is None, sender.communicate()
            time.sleep(0.05)
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed = time.monotonic()
        stranded = _held_by(runtime, victim.pid)
        killed_at = len(smtp.received)
        assert killed_at < COUNT
        stdout, stderr = sender.communicate(timeout=max(deadline - time.monotonic(), 1))
        assert sender.returncode == 0, stderr
        assert f"issue {issue_id}: sent;" in stdout
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    received = smtp.received
    # The rows the dead worker held went out once its claims ran out: within claim_seconds
    # (20 s) of its last renewal, and a lane's poll after that.
    recovered = [m.at for m in received if m.at > killed and set(m.recipients) & stranded]
    assert stranded, "the killed worker held no rows: the test killed it between batches"
    assert len(recovered) >= len(stranded) - CONCURRENCY * (BATCH + CONNECTIONS)
    record_property("stranded_rows", len(stranded))
    record_property("recovery_seconds", round(max(recovered) - killed, 1))
    counts = Counter(r for message in received for r in message.recipients)
    assert set(counts) == {f"reader{n}@example.net" for n in range(COUNT)}
    duplicates = sum(n - 1 for n in counts.values())
    # The killed worker's in-flight window: per running batch, outcomes not yet committed plus
    # one per connection. The workers that lived sent nothing twice.
    assert duplicates <= CONCURRENCY * (BATCH + CONNECTIONS)
    with runtime.sessions() as session:
        assert delivery_counts(session, issue_id).sent == COUNT
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.SENT
    # The global limit, measured where it matters: when the server accepted each message.
    times = sorted(message.at for message in received)
    overall = (len(times) - 1) / (times[-1] - times[0])
    assert overall <= RATE * 1.02
    busiest, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    # In any one second: the rate, plus messages paced just before it that reached the server
    # late (one per connection at most).
    assert busiest <= RATE + WORKERS * CONCURRENCY * CONNECTIONS
