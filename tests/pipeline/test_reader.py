"""One subscriber's story: the timeline from their data and why each recent issue came or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus
from newsletter.pipeline.reader import export, story
from newsletter.runtime import Runtime
from subscribers.lifecycle import record, suppress, transition
from subscribers.models import Cause, Status, Subscriber
from tests import factories

SIGNUP = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
WEEK = timedelta(weeks=1)


def _sent(session: Session, key: str, at: datetime) -> Issue:
    issue = factories.issue(
        at,
        key=key,
        status=IssueStatus.SENT,
        subject=f"Issue {key}",
        sent_at=at,
        sending_started_at=at,
    )
    session.add(issue)
    session.flush()
    return issue


def _deliver(session: Session, issue: Issue, person: Subscriber, **fields: object) -> None:
    session.add(
        Delivery(issue_id=issue.id, subscriber_id=person.id, created_at=issue.sent_at, **fields)
    )


def _ana(runtime: Runtime) -> int:
    """Signed up from a partner's page, confirmed, got one issue, one bounced softly, one is
    retrying; unsubscribed by one-click before the last issue; one issue predates her."""
    with runtime.sessions.begin() as session:
        _sent(session, "2026-W39", SIGNUP - WEEK)
        ana = Subscriber(
            email="ana@example.org",
            name="Ana",
            attributes={},
            soft_bounces=0,
            signup_source="https://partner.example/story",
            signup_origin={"page": "https://partner.example/story", "utm_source": "partner"},
        )
        transition(
            session, ana, Status.PENDING, Cause.FORM, SIGNUP, "signup on partner", "203.0.113.9"
        )
        transition(
            session, ana, Status.ACTIVE, Cause.LINK, SIGNUP + timedelta(hours=1), "confirmed"
        )
        record(session, ana, Cause.LINK, SIGNUP + timedelta(days=2), "preferences: topics")
        session.flush()
        sent = _sent(session, "2026-W41", SIGNUP + WEEK)
        _deliver(
            session,
            sent,
            ana,
            status=DeliveryStatus.SENT,
            attempts=1,
            sent_at=SIGNUP + WEEK,
            message_id="<w41.ana@news.example.org>",
        )
        failed = _sent(session, "2026-W42", SIGNUP + 2 * WEEK)
        _deliver(
            session,
            failed,
            ana,
            status=DeliveryStatus.FAILED,
            attempts=1,
            last_error="550 5.1.1 <ana@example.org>: user unknown",
        )
        retrying = _sent(session, "2026-W43", SIGNUP + 3 * WEEK)
        _deliver(
            session,
            retrying,
            ana,
            status=DeliveryStatus.DEFERRED,
            attempts=3,
            last_error="451 4.7.1 try again later",
            next_attempt_at=SIGNUP + 3 * WEEK + WEEK / 7,
        )
        transition(
            session,
            ana,
            Status.UNSUBSCRIBED,
            Cause.LINK,
            SIGNUP + 3 * WEEK + timedelta(days=1),
            "one-click",
            "198.51.100.4",
        )
        _sent(session, "2026-W44", SIGNUP + 4 * WEEK)
        return ana.id


def test_the_timeline_tells_everything_in_order(runtime: Runtime) -> None:
    ana = _ana(runtime)
    with runtime.sessions() as session:
        told = story(session, ana)
    assert told is not None
    lines = [(m.kind, m.text) for m in told.moments]
    assert lines[0] == (
        "signup",
        "Signed up (form: signup on partner) from 203.0.113.9",
    )
    assert ("confirmed", "Confirmed (link: confirmed)") in lines
    assert ("change", "Changed (link: preferences: topics)") in lines
    assert lines[-1] == ("unsubscribed", "Unsubscribed (link: one-click) from 198.51.100.4")
    deliveries = [m for m in told.moments if m.kind == "delivery"]
    assert [m.text.split(":")[0] for m in deliveries] == [
        "Issue 2026-W41 “Issue 2026-W41”",
        "Issue 2026-W42 “Issue 2026-W42”",
        "Issue 2026-W43 “Issue 2026-W43”",
    ]
    assert "550 5.1.1" in deliveries[1].detail
    assert told.suppression is not None  # the unsubscribe suppressed the address


def test_why_each_recent_issue_came_or_not_in_one_sentence(runtime: Runtime) -> None:
    ana = _ana(runtime)
    with runtime.sessions() as session:
        told = story(session, ana)
    assert told is not None
    answers = {answer.key: answer.sentence for answer in told.answers}
    assert answers == {
        "2026-W44": "Not eligible: they were unsubscribed when it was sent, since 2026-10-23"
        " (link: one-click).",
        "2026-W43": "Still retrying after 3 attempts, next try 2026-10-23 09:00 UTC"
        " (last reply: 451 4.7.1 try again later).",
        "2026-W42": "Bounced: the server refused it after 1 attempt"
        " (last reply: 550 5.1.1 <ana@example.org>: user unknown).",
        "2026-W41": "Sent on 2026-10-08 09:00 UTC; the server accepted it.",
        "2026-W39": "Not eligible: they signed up after the issue was sent (2026-09-24).",
    }
    assert [a.received for a in told.answers] == [False, False, False, True, False]


def test_a_suppressed_or_paused_active_reader_is_told_so(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        bo = factories.subscriber("bo@example.org", SIGNUP)
        session.add(bo)
        session.flush()
        suppress(session, bo.email, Cause.ADMIN, SIGNUP, "asked by phone")  # still active
        cy = factories.subscriber("cy@example.org", SIGNUP, paused_until=SIGNUP + 4 * WEEK)
        session.add(cy)
        _sent(session, "2026-W41", SIGNUP + WEEK)
        ids = bo.id, cy.id
    with runtime.sessions() as session:
        suppressed, paused = (story(session, one) for one in ids)
    assert suppressed is not None
    assert paused is not None
    assert suppressed.answers[0].sentence == (
        "Not eligible: the address is suppressed (admin) since 2026-10-01."
    )
    assert paused.answers[0].sentence == "Not eligible: paused until 2026-10-29 when it was sent."


def test_the_export_has_every_row_that_names_them(runtime: Runtime) -> None:
    ana = _ana(runtime)
    with runtime.sessions() as session:
        data = export(session, ana)
        assert export(session, ana + 1000) is None
    assert data is not None
    assert data["email"] == "ana@example.org"
    assert data["signup_origin"] == {
        "page": "https://partner.example/story",
        "utm_source": "partner",
    }
    assert [e["to"] for e in data["events"]] == ["pending", "active", "active", "unsubscribed"]
    assert data["events"][0]["client_address"] == "203.0.113.9"
    assert [d["issue"] for d in data["deliveries"]] == ["2026-W41", "2026-W42", "2026-W43"]
    assert data["deliveries"][1]["smtp_reply"].startswith("550")
    assert data["suppression"]["reason"] == "link"
