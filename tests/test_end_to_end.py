"""The whole pipeline on one database: build the week's digest, approve it, send it over SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.deliver.send import send_issue
from newsletter.digest.build import build_issue
from newsletter.editors import review
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus
from newsletter.pipeline.send import variant_renderer
from newsletter.runtime import Runtime
from subscribers.models import Subscriber
from tests.factories import add_post, add_subscriber, add_topics
from tests.smtpd import SmtpServer

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thursday 09:00 in New York


def test_build_approve_send_with_a_topic_set_that_appeared_after_the_build(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "beyond-a-border-solution", NOW - timedelta(days=2), [topics["asylum"]])
        add_post(session, "dhs-detains", NOW - timedelta(days=1), [topics["border-enforcement"]])
        add_subscriber(session, "everything@example.org", NOW)
        build_issue(session, runtime.settings, NOW)
        # A reader whose topic set no stored variant covers: rendered when the send plans it.
        add_subscriber(session, "asylum@example.org", NOW, [topics["asylum"]])
    with runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        assert {variant.topic_key for variant in issue.variants} == {""}
        review.approve(issue, "pub@example.org", NOW, NOW)
        issue_id = issue.id

    result = send_issue(
        runtime,
        issue_id,
        lambda: SmtpTransport.from_url(smtp.url, timeout=5),
        render_missing=variant_renderer(runtime),
    )

    assert (result.status, result.counts.sent) == (IssueStatus.SENT, 2)
    by_address = {r.recipients[0]: r for r in smtp.received}
    assert set(by_address) == {"everything@example.org", "asylum@example.org"}
    everything = BytesParser(policy=policy.default).parsebytes(
        by_address["everything@example.org"].data
    )
    asylum = BytesParser(policy=policy.default).parsebytes(by_address["asylum@example.org"].data)
    everything_text = everything.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    asylum_text = asylum.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Dhs Detains" in everything_text
    assert "Beyond A Border Solution" in everything_text
    assert "Beyond A Border Solution" in asylum_text
    assert "Dhs Detains" not in asylum_text  # only their topic's stories
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.SENT
        assert {v.topic_key for v in issue.variants} == {"", "asylum"}
        rows = session.execute(select(Subscriber.email, Delivery.status).join(Delivery)).all()
    assert dict(rows) == {
        "everything@example.org": DeliveryStatus.SENT,
        "asylum@example.org": DeliveryStatus.SENT,
    }


def test_readers_whose_topics_had_nothing_this_week_are_skipped(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "asylum-story", NOW - timedelta(days=1), [topics["asylum"]])
        add_subscriber(session, "everything@example.org", NOW)
        build_issue(session, runtime.settings, NOW)
        add_subscriber(session, "border@example.org", NOW, [topics["border-enforcement"]])
    with runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        review.approve(issue, "pub@example.org", NOW, NOW)
        issue_id = issue.id

    send_issue(
        runtime,
        issue_id,
        lambda: SmtpTransport.from_url(smtp.url, timeout=5),
        render_missing=variant_renderer(runtime),
    )

    assert [r.recipients for r in smtp.received] == [["everything@example.org"]]
    with runtime.sessions() as session:
        skipped = session.execute(
            select(Delivery.status, Delivery.last_error)
            .join(Subscriber)
            .where(Subscriber.email == "border@example.org")
        ).one()
    assert skipped == (DeliveryStatus.SKIPPED, "nothing this week for border-enforcement")
