"""A relay or outbox that refuses everything pauses the issue: it never fails the list or loops."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from newsletter.deliver.send import send_issue
from newsletter.deliver.state import SendResult
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Delivery, DeliveryStatus, IssueStatus
from newsletter.runtime import Runtime
from subscribers.models import Status, Subscriber
from tests.deliver.conftest import World, with_delivery
from tests.smtpd import SmtpServer, smtp_server

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
# Only a guard against a hang that would stall the suite: no test measures time.
HANG_GUARD = 60.0
T = TypeVar("T")
SECRET_KEY = secrets.token_urlsafe(48)


def _ends(work: Callable[[], T]) -> T:
    """Run `work` in a thread; fail (rather than hang) if it has not returned within the guard."""
    done: list[T] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            done.append(work())
        except BaseException as exc:  # handed to the test thread below
            failed.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), f"still running after {HANG_GUARD:g}s: it never ends"
    if failed:
        raise failed[0]
    return done[0]


def _runtime(runtime: Runtime, **delivery: object) -> Runtime:
    return with_delivery(
        runtime, **{"connections": 3, "batch_size": 5, "retry_base_seconds": 0.05, **delivery}
    )


def _send(runtime: Runtime, world: World, url: str) -> SendResult:
    return _ends(
        lambda: send_issue(runtime, world.issue_id, lambda: SmtpTransport.from_url(url, timeout=5))
    )


def _free_port() -> int:
    """A port nobody listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_resumable(runtime: Runtime, world: World, result: SendResult) -> None:
    """Paused, with every delivery still open and nobody failed or marked bounced."""
    assert result.status == IssueStatus.PAUSED
    assert result.fault
    assert result.counts.failed == 0
    assert result.counts.sent == 0
    assert result.counts.remaining == len(world.eligible)
    with runtime.sessions() as session:
        statuses = set(
            session.scalars(
                select(Delivery.status).where(Delivery.issue_id == world.issue_id)
            ).all()
        )
        assert statuses <= {DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SKIPPED}
        subscribers = session.scalars(
            select(Subscriber).where(Subscriber.email.in_(list(world.eligible)))
        ).all()
        assert {s.status for s in subscribers} == {Status.ACTIVE}


def _resume_sends_everyone(runtime: Runtime, world: World) -> None:
    with smtp_server() as healthy:
        resumed = _send(_runtime(runtime), world, healthy.url)
        assert resumed.status == IssueStatus.SENT
        counts = Counter(r for received in healthy.received for r in received.recipients)
    assert counts == Counter(dict.fromkeys(world.eligible, 1))


@pytest.mark.parametrize("pause_after", [5, 50], ids=["list-larger", "list-smaller"])
def test_a_policy_refusal_for_everyone_pauses_and_fails_nobody(
    runtime: Runtime, smtp: SmtpServer, world: World, pause_after: int
) -> None:
    smtp.faults.rcpt_replies = dict.fromkeys(world.eligible, "554 5.7.1 Relay access denied")
    result = _send(_runtime(runtime, pause_after_failures=pause_after), world, smtp.url)
    _assert_resumable(runtime, world, result)
    assert result.reason is not None
    assert "failures in a row from the mail server" in result.reason
    assert "554 5.7.1 Relay access denied" in result.reason
    assert f"newsletter digest send {world.issue_id}" in result.reason
    assert smtp.received == []
    _resume_sends_everyone(runtime, world)


def test_451_for_everyone_on_a_list_smaller_than_the_pause_limit_ends(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    smtp.faults.data_reply = "451 4.3.0 Try again later"
    result = _send(_runtime(runtime, pause_after_failures=50), world, smtp.url)
    _assert_resumable(runtime, world, result)
    assert "451 4.3.0 Try again later" in (result.reason or "")
    _resume_sends_everyone(runtime, world)


def test_a_relay_that_is_down_pauses_with_a_clear_reason(runtime: Runtime, world: World) -> None:
    url = f"smtp://127.0.0.1:{_free_port()}"
    result = _send(_runtime(runtime, pause_after_failures=50), world, url)
    _assert_resumable(runtime, world, result)
    assert "cannot connect to 127.0.0.1:" in (result.reason or "")
    _resume_sends_everyone(runtime, world)


def test_one_recipients_policy_refusal_among_successes_is_theirs(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    """Held back while it might be the relay's; a success shows it was the recipient's."""
    refused = sorted(world.eligible)[0]
    smtp.faults.rcpt_replies = {refused: "554 5.7.1 Recipient address rejected"}
    result = _send(_runtime(runtime, pause_after_failures=5), world, smtp.url)
    assert result.status == IssueStatus.SENT
    assert (result.counts.sent, result.counts.failed) == (len(world.eligible) - 1, 1)
    with runtime.sessions() as session:
        failed = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)
        ).one()
        assert "5.7.1" in (failed.last_error or "")


def test_retries_are_bounded_in_count(runtime: Runtime, smtp: SmtpServer, world: World) -> None:
    """A mailbox full for good fails after max_attempts, long before the retry deadline."""
    stuck = sorted(world.eligible)[0]
    smtp.faults.rcpt_replies = {stuck: "452 4.2.2 Mailbox full"}
    result = _send(_runtime(runtime, max_attempts=3, retry_base_seconds=0.01), world, smtp.url)
    assert result.status == IssueStatus.SENT
    assert result.counts.failed == 1
    with runtime.sessions() as session:
        delivery = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)
        ).one()
        assert delivery.attempts == 3
        assert (delivery.last_error or "").startswith("gave up after 3 attempts: ")


def _env(runtime: Runtime, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return {
        **clean,
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        "NEWSLETTER_SITE_URL": "https://news.example.org",
        "NEWSLETTER_SECRET_KEY": SECRET_KEY,
        **extra,
    }


def _digest_send(runtime: Runtime, world: World, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSLETTER, "digest", "send", str(world.issue_id)],
        env=_env(runtime, **env),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,  # a hang guard only
        check=False,
    )


def test_digest_send_to_a_relay_that_is_down_exits_1_with_one_line(
    runtime: Runtime, world: World
) -> None:
    sent = _digest_send(runtime, world, NEWSLETTER_SMTP_URL=f"smtp://127.0.0.1:{_free_port()}")
    assert sent.returncode == 1, sent.stdout + sent.stderr
    [line] = sent.stderr.splitlines()
    assert line.startswith("error: paused after ")
    assert "cannot connect to 127.0.0.1:" in line
    assert f"newsletter digest send {world.issue_id}" in line
    assert "Traceback" not in sent.stdout + sent.stderr
    assert f"issue {world.issue_id}: paused; sent 0, failed 0" in sent.stdout


def test_digest_send_to_an_unusable_outbox_pauses_and_leaves_no_tmp_files(
    runtime: Runtime, world: World
) -> None:
    outbox = runtime.settings.var_dir / "outbox"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("a file where the outbox folder should be")
    sent = _digest_send(runtime, world)
    assert sent.returncode == 1, sent.stdout + sent.stderr
    [line] = sent.stderr.splitlines()
    assert line.startswith("error: paused after ")
    assert f"cannot write to the outbox {outbox}" in line
    assert "unexpected error" not in line
    assert list(outbox.parent.rglob("*.tmp")) == []
    with runtime.sessions() as session:
        assert (
            session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)).all()
            == []
        )
    # Once the outbox is usable again, a resume writes every message.
    outbox.unlink()
    resumed = _digest_send(runtime, world)
    assert resumed.returncode == 0, resumed.stderr
    assert len(list(outbox.glob("*.eml"))) == len(world.eligible)
    assert list(outbox.glob(".*.tmp")) == []
