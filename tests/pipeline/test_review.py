"""The review use cases the admin and the CLI share: take back, cancel, send now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.editors.review import ReviewError
from newsletter.errors import DigestError
from newsletter.models import Issue, IssueStatus
from newsletter.pipeline import review
from newsletter.runtime import Runtime
from tests import factories

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    built = Runtime.build(settings, clock=FixedClock(NOW))
    migrate.upgrade(built.engine)
    return built


def _add(runtime: Runtime, status: IssueStatus, **fields: object) -> int:
    variants = [factories.variant(NOW, "<p>h</p>", "t")]
    with runtime.sessions.begin() as session:
        issue = factories.issue(NOW, status=status, variants=variants, **fields)
        session.add(issue)
        session.flush()
        return issue.id


def _status(runtime: Runtime, issue_id: int) -> Issue:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return issue


def test_send_now_approves_a_draft_for_now_and_unapprove_takes_it_back(runtime: Runtime) -> None:
    issue_id = _add(runtime, IssueStatus.DRAFT)
    assert review.send_now(runtime, issue_id, "pub@example.org") == "2026-W48"
    approved = _status(runtime, issue_id)
    assert (approved.status, approved.send_at, approved.approved_by) == (
        IssueStatus.APPROVED,
        NOW,
        "pub@example.org",
    )
    review.unapprove(runtime, issue_id)
    back = _status(runtime, issue_id)
    assert (back.status, back.approved_by, back.send_at) == (IssueStatus.DRAFT, None, None)


def test_cancel_stops_a_sending_issue_but_not_a_sent_one(runtime: Runtime) -> None:
    sending = _add(runtime, IssueStatus.SENDING, sending_started_at=NOW - timedelta(hours=1))
    review.cancel(runtime, sending)
    assert _status(runtime, sending).status == IssueStatus.CANCELLED
    sent = _add(runtime, IssueStatus.SENT, key="2026-W47")
    with pytest.raises(ReviewError, match="is sent; there is nothing to cancel"):
        review.cancel(runtime, sent)
    assert _status(runtime, sent).status == IssueStatus.SENT


def test_an_unknown_issue_is_a_digest_error(runtime: Runtime) -> None:
    with pytest.raises(DigestError, match="no issue 999"):
        review.unapprove(runtime, 999)
