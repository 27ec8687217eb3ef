"""`newsletter digest send --processes N`: N sender processes share one issue, each row once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.deliver.store import OPEN
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus
from newsletter.pipeline.send import sender_processes
from newsletter.runtime import Runtime
from subscribers.models import Subscriber
from tests.cli.process import NEWSLETTER, run, service_env
from tests.deliver.conftest import make_world
from tests.smtpd import SmtpServer

PROCESSES, CONNECTIONS, BATCH = 3, 2, 10


def _env(runtime: Runtime, smtp: SmtpServer) -> dict[str, str]:
    return service_env(
        runtime,
        smtp.url,
        DELIVERY__CONNECTIONS=str(CONNECTIONS),
        DELIVERY__BATCH_SIZE=str(BATCH),
        DELIVERY__CLAIM_SIZE="15",
        DELIVERY__RETRY_BASE_SECONDS="1",
    )


def _start(env: dict[str, str], issue_id: int, processes: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [NEWSLETTER, "digest", "send", str(issue_id), "--processes", str(processes)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _received_once_each(smtp: SmtpServer, eligible: dict[str, str]) -> None:
    """Each eligible reader got exactly one message, their own edition, addressed to them."""
    by_address: dict[str, list[str]] = {}
    for received in smtp.received:
        assert len(received.recipients) == 1
        message = received.message
        by_address.setdefault(received.recipients[0], []).append(str(message["Subject"]))
        assert received.recipients[0] in str(message["To"])
    assert set(by_address) == set(eligible)
    for address, subjects in by_address.items():
        assert len(subjects) == 1, (address, subjects)
        assert f"({eligible[address]})" in subjects[0]


def _holders(runtime: Runtime, issue_id: int) -> set[str]:
    with runtime.sessions() as session:
        return set(
            session.scalars(
                select(Delivery.claimed_by)
                .where(Delivery.issue_id == issue_id, Delivery.status.in_(OPEN))
                .where(Delivery.claimed_by.is_not(None))
            )
        )


def _statuses(runtime: Runtime, issue_id: int) -> Counter[DeliveryStatus]:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.SENT
        return Counter(
            session.scalars(select(Delivery.status).where(Delivery.issue_id == issue_id))
        )


def test_processes_send_every_message_exactly_once(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=120)
    smtp.faults.delay = 0.005
    env = _env(runtime, smtp)
    result = run("digest", "send", str(world.issue_id), "--processes", str(PROCESSES), env=env)
    assert result.returncode == 0, result.stderr
    # One summary, from the parent, not one per process.
    assert result.stdout.count(f"issue {world.issue_id}: sent;") == 1
    assert f"sent {len(world.eligible)}, failed 0" in result.stdout
    _received_once_each(smtp, world.eligible)
    # The rows were shared: more than one sender process claimed and sent them.
    assert _statuses(runtime, world.issue_id)[DeliveryStatus.SENT] == len(world.eligible)


def test_failures_injected_by_the_server_are_retried(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=40)
    deferred, refused = "reader4@example.org", "reader5@example.org"
    smtp.faults.rcpt_replies = {
        deferred: "451 4.2.1 Mailbox busy, try later",
        refused: "550 5.1.1 No such user",
    }
    env = _env(runtime, smtp)

    def lift_the_deferral() -> None:
        # The busy mailbox takes mail again once the first attempt has been refused.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with runtime.sessions() as session:
                attempts = session.scalar(
                    select(Delivery.attempts)
                    .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                    .where(Subscriber.email == deferred)
                )
            if attempts:
                smtp.faults.rcpt_replies.pop(deferred, None)
                return
            time.sleep(0.05)

    process = _start(env, world.issue_id, 2)
    lift_the_deferral()
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert f"failed 1, skipped 0, left 0 of {len(world.eligible)}" in stdout
    expected = {a: e for a, e in world.eligible.items() if a != refused}
    _received_once_each(smtp, expected)
    with runtime.sessions() as session:
        found = session.execute(
            select(Subscriber.email, Delivery.attempts)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.email.in_([deferred, refused]))
        )
        rows = {email: attempts for email, attempts in found}
    assert rows[deferred] == 2  # refused once (451), then sent


def test_a_killed_process_rows_are_sent_by_the_others(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=150)
    smtp.faults.delay = 0.02
    env = _env(runtime, smtp)
    process = _start(env, world.issue_id, PROCESSES)
    deadline = time.monotonic() + 120  # a hang guard only
    holders: set[str] = set()
    while len(holders) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        holders = _holders(runtime, world.issue_id)
        time.sleep(0.02)
    victim = sorted(holders)[0]
    # holder: local:<host>:<pid>:<token>; the victim is a child, never the parent.
    pid = int(victim.split(":")[-2])
    assert pid != process.pid
    os.kill(pid, signal.SIGKILL)
    killed_at = len(smtp.received)
    stdout, stderr = process.communicate(timeout=120)
    assert killed_at < len(world.eligible)
    # Reported once, and the exit code says a sender died though the others finished its rows.
    assert process.returncode == 1
    assert f"(pid {pid}) was killed by signal 9" in stderr
    assert "the others sent its rows" in stderr
    assert "Traceback" not in stderr
    assert f"issue {world.issue_id}: sent;" in stdout
    counts = Counter(r for received in smtp.received for r in received.recipients)
    assert set(counts) == set(world.eligible)
    duplicates = sum(n - 1 for n in counts.values())
    # Only the killed process's window: outcomes not yet recorded, plus one per connection.
    assert duplicates <= BATCH + CONNECTIONS
    assert _holders(runtime, world.issue_id) == set()


def test_sigterm_stops_every_process_cleanly(runtime: Runtime, smtp: SmtpServer) -> None:
    world = make_world(runtime, count=120)
    smtp.faults.delay = 0.02
    env = _env(runtime, smtp)
    # The server holds the 21st message on, so the processes are surely mid-send when told.
    smtp.faults.hold_after = 20
    process = _start(env, world.issue_id, PROCESSES)
    deadline = time.monotonic() + 120  # a hang guard only
    while smtp.held < 1:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the processes never reached the held message"
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    time.sleep(1)  # the parent passes it on; the held messages keep every child mid-send
    smtp.release()
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "sending;" in stdout
    assert "run digest send again" in stdout
    # Every child finished what it had in flight and gave its other rows back.
    assert _holders(runtime, world.issue_id) == set()
    stopped_at = len(smtp.received)
    assert stopped_at < len(world.eligible)
    smtp.faults.delay = 0
    rerun = run("digest", "send", str(world.issue_id), "--processes", "2", env=env)
    assert rerun.returncode == 0, rerun.stderr
    # SIGTERM records everything handed over: not a single duplicate over both runs.
    _received_once_each(smtp, world.eligible)


def test_a_relay_that_refuses_everything_pauses_with_exit_1(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    world = make_world(runtime, count=60)
    smtp.faults.data_reply = "451 4.3.0 Try again later"
    env = _env(runtime, smtp) | {"NEWSLETTER_DELIVERY__PAUSE_AFTER_FAILURES": "10"}
    result = run("digest", "send", str(world.issue_id), "--processes", "2", env=env)
    assert result.returncode == 1
    assert f"issue {world.issue_id}: paused;" in result.stdout
    assert "Traceback" not in result.stderr
    with runtime.sessions() as session:
        issue = session.get(Issue, world.issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.PAUSED


def test_how_many_processes(settings: Settings) -> None:
    assert sender_processes(settings, 3) == (3, None)
    assert sender_processes(settings, None)[0] == (os.cpu_count() or 1)
    limited = settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update={"rate_per_second": 5.0})}
    )
    count, note = sender_processes(limited, 4)
    assert count == 1
    assert note is not None
    assert "NEWSLETTER_REDIS_URL" in note
    memory = settings.model_copy(update={"database_url": "sqlite://"})
    assert sender_processes(memory, 4)[0] == 1
    brokered = settings.model_copy(update={"broker_url": "redis://127.0.0.1:6379/13"})
    count, note = sender_processes(brokered, 4)
    assert count == 1
    assert note is not None
    assert "worker" in note
