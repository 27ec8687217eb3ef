"""The send loop against a real SMTP server with faults: everyone once, nobody ineligible."""

from __future__ import annotations

import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.deliver.plan import delivery_counts
from newsletter.deliver.send import send_issue
from newsletter.errors import SendError
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus, IssueVariant, Topic
from newsletter.runtime import Runtime
from subscribers.lifecycle import is_suppressed, transition
from subscribers.models import Cause, Status, Subscriber, SubscriberTopic
from tests.cli.process import run
from tests.deliver.conftest import NOW, World, with_delivery
from tests.factories import variant_text
from tests.pipeline.archive import archive_links
from tests.smtpd import SmtpServer, smtp_server


def _runtime(runtime: Runtime, **delivery: object) -> Runtime:
    return with_delivery(
        runtime, **{"connections": 3, "batch_size": 5, "retry_base_seconds": 0.05, **delivery}
    )


def _send(runtime: Runtime, issue_id: int, url: str, **kw: object):  # type: ignore[no-untyped-def]
    return send_issue(runtime, issue_id, lambda: SmtpTransport.from_url(url, timeout=5), **kw)  # type: ignore[arg-type]


def _per_address(smtp: SmtpServer) -> Counter[str]:
    return Counter(r for received in smtp.received for r in received.recipients)


def test_everyone_eligible_exactly_once_with_the_right_headers(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    result = _send(_runtime(runtime), world.issue_id, smtp.url)
    assert result.status == IssueStatus.SENT
    counts = _per_address(smtp)
    assert counts == Counter(dict.fromkeys(world.eligible, 1))
    for address in world.ineligible:
        assert address not in counts
    for received in smtp.received:
        message = message_from_bytes(received.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        address = received.recipients[0]
        assert message["To"].addresses[0].addr_spec == address
        assert received.sender.startswith("bounces+")
        assert received.sender.endswith("@example.org")
        assert message["From"] == "Example Council News <newsletter@example.org>"
        label = world.eligible[address]
        assert message["Subject"] == f"Weekly ({label}) — café"
        assert message["List-Id"] == "<newsletter.example.org>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = str(message["List-Unsubscribe"])
        assert unsubscribe.startswith("<https://news.example.org/unsubscribe?token=")
        assert "<mailto:unsubscribe+" in unsubscribe
        assert message["Message-ID"]
        assert message["Date"]
        assert message["MIME-Version"] == "1.0"
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None
        assert html is not None
        name = message["To"].addresses[0].display_name
        assert f"Hello {name}, this is the {label} edition." in text.get_content()
        url = unsubscribe.split(">")[0][1:]
        assert f"Unsubscribe: {url}" in text.get_content()
        assert url.replace("&", "&amp;") in html.get_content()
        assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))
    with runtime.sessions() as session:
        issue = session.get(Issue, world.issue_id)
        assert issue is not None
        assert issue.sent_at is not None
        assert delivery_counts(session, world.issue_id).sent == len(world.eligible)
    # Sending again is refused rather than repeated.
    again = _runtime(runtime)
    with pytest.raises(SendError, match="already sent"):
        _send(again, world.issue_id, smtp.url)
    assert len(smtp.received) == len(world.eligible)


def test_temporary_and_permanent_refusals(runtime: Runtime, smtp: SmtpServer, world: World) -> None:
    addresses = sorted(world.eligible)
    soft, hard = addresses[:3], addresses[3:5]
    smtp.faults.rcpt_replies = {a: "451 4.2.0 Try later" for a in soft}
    smtp.faults.rcpt_replies |= {a: "550 5.1.1 No such user" for a in hard}

    def heal() -> None:
        # Once everyone else has had it, the full mailboxes clear: the retries get through.
        while len(smtp.received) < len(world.eligible) - len(soft) - len(hard):
            time.sleep(0.01)
        for address in soft:
            smtp.faults.rcpt_replies.pop(address)

    timer = threading.Thread(target=heal)
    timer.start()
    result = _send(_runtime(runtime), world.issue_id, smtp.url)
    timer.join()
    assert result.status == IssueStatus.SENT
    counts = _per_address(smtp)
    assert counts == Counter({a: 1 for a in world.eligible if a not in hard})
    with runtime.sessions() as session:
        for address in hard:
            subscriber = session.scalars(
                select(Subscriber).where(Subscriber.email == address)
            ).one()
            assert subscriber.status == Status.BOUNCED
            assert is_suppressed(session, address)
            delivery = session.scalars(
                select(Delivery).where(Delivery.subscriber_id == subscriber.id)
            ).one()
            assert delivery.status == DeliveryStatus.FAILED
            assert "5.1.1" in (delivery.last_error or "")
        retried = session.scalars(
            select(Delivery).where(Delivery.attempts > 1, Delivery.status == DeliveryStatus.SENT)
        ).all()
        assert len(retried) == len(soft)


def test_dropped_connections_and_a_slow_server(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    smtp.faults.drop_every = 4
    smtp.faults.delay = 0.02
    result = _send(_runtime(runtime, pause_after_failures=50), world.issue_id, smtp.url)
    assert result.status == IssueStatus.SENT
    assert _per_address(smtp) == Counter(dict.fromkeys(world.eligible, 1))


def test_the_retry_deadline_fails_what_never_gets_through(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    stuck = sorted(world.eligible)[0]
    smtp.faults.rcpt_replies = {stuck: "452 4.2.2 Mailbox full"}
    result = _send(_runtime(runtime, retry_deadline_hours=0.2 / 3600), world.issue_id, smtp.url)
    assert result.status == IssueStatus.SENT
    assert result.counts.failed == 1
    assert result.counts.sent == len(world.eligible) - 1
    with runtime.sessions() as session:
        delivery = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)
        ).one()
        assert "retry deadline" in (delivery.last_error or "")


def test_a_server_that_goes_away_pauses_the_issue_and_send_resumes_it(
    runtime: Runtime, world: World
) -> None:
    with smtp_server() as first:
        port = first.port
        first.faults.delay = 0.01
        stop_after = threading.Timer(0.15, first.stop)
        stop_after.start()
        paused = _send(_runtime(runtime, pause_after_failures=5), world.issue_id, first.url)
        stop_after.join()
        before = _per_address(first)
    assert paused.status == IssueStatus.PAUSED
    assert paused.reason
    assert "failures in a row" in paused.reason
    assert paused.counts.remaining > 0
    with smtp_server(port=port) as second:
        resumed = _send(_runtime(runtime), world.issue_id, second.url)
        after = _per_address(second)
    assert resumed.status == IssueStatus.SENT
    total = before + after
    assert set(total) == set(world.eligible)
    assert all(n == 1 for n in total.values())


def test_stop_finishes_in_flight_and_a_rerun_continues(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    stop = threading.Event()
    smtp.faults.delay = 0.02
    threading.Timer(0.2, stop.set).start()
    first = _send(_runtime(runtime), world.issue_id, smtp.url, stop=stop)
    assert first.status == IssueStatus.SENDING
    assert first.counts.remaining > 0
    assert first.counts.sent == len(smtp.received)  # every message handed over is recorded
    second = _send(_runtime(runtime), world.issue_id, smtp.url)
    assert second.status == IssueStatus.SENT
    assert _per_address(smtp) == Counter(dict.fromkeys(world.eligible, 1))


def test_unsubscribed_after_planning_is_skipped(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    stop = threading.Event()
    stop.set()
    _send(_runtime(runtime), world.issue_id, smtp.url, stop=stop)  # plans, sends nothing
    leaver = sorted(world.eligible)[-1]
    with runtime.sessions.begin() as session:
        subscriber = session.scalars(select(Subscriber).where(Subscriber.email == leaver)).one()
        transition(session, subscriber, Status.UNSUBSCRIBED, Cause.LINK, runtime.clock.now())
    result = _send(_runtime(runtime), world.issue_id, smtp.url)
    assert result.status == IssueStatus.SENT
    assert result.counts.skipped == 1
    assert leaver not in _per_address(smtp)
    assert len(smtp.received) == len(world.eligible) - 1


def test_a_topic_set_without_a_variant_goes_through_the_seam(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    with runtime.sessions.begin() as session:
        border = Topic(slug="border-enforcement", name="Border Enforcement", description="")
        session.add(border)
        session.flush()
        session.add(
            Subscriber(
                email="border@example.org",
                name="B",
                status=Status.ACTIVE,
                created_at=NOW,
                updated_at=NOW,
                topics=[SubscriberTopic(topic_id=border.id)],
            )
        )
    with pytest.raises(
        SendError, match="no rendered version for subscribers of 'border-enforcement'"
    ):
        _send(_runtime(runtime), world.issue_id, smtp.url)
    assert smtp.received == []

    def render(session: Session, issue: Issue, topic_key: str) -> IssueVariant:
        html, text = variant_text(f"renderer's {topic_key}")
        made = IssueVariant(
            issue=issue, topic_key=topic_key, subject="S", html=html, text=text, rendered_at=NOW
        )
        session.add(made)
        return made

    result = _send(_runtime(runtime), world.issue_id, smtp.url, render_missing=render)
    assert result.status == IssueStatus.SENT
    [received] = smtp.to("border@example.org")
    assert b"renderer's border-enforcement edition" in received.data.replace(b"=\r\n", b"")


def test_digest_send_lists_the_sent_issue_in_the_archive_feed(
    runtime: Runtime, smtp: SmtpServer, world: World
) -> None:
    """The command, not only the scheduler, updates /archive/feed.xml once the issue is sent."""
    env = {
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_SMTP_URL": smtp.url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        "NEWSLETTER_SITE_URL": "https://news.example.org",
    }
    assert archive_links(runtime) == []
    sent = run("digest", "send", str(world.issue_id), env=env)
    assert sent.returncode == 0, sent.stderr
    assert f"issue {world.issue_id}: sent;" in sent.stdout
    assert _per_address(smtp) == Counter(dict.fromkeys(world.eligible, 1))
    assert archive_links(runtime) == ["https://news.example.org/archive/2026-W48"]
