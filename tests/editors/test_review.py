"""Review actions on an issue, and the next send slot in local time across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from newsletter.editors import review
from newsletter.models import Issue, IssueStatus
from tests import factories

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("now", "expected_local"),
    [
        # Thursday before the March change (DST starts Sun 8 Mar 2026): Friday 10:00 EST.
        (datetime(2026, 3, 5, 12, 0, tzinfo=UTC), datetime(2026, 3, 6, 10, 0)),
        # Friday 6 Mar after 10:00 local: next Friday, now EDT, still 10:00 on the wall.
        (datetime(2026, 3, 6, 16, 0, tzinfo=UTC), datetime(2026, 3, 13, 10, 0)),
        # Across the November change (DST ends Sun 1 Nov 2026).
        (datetime(2026, 10, 30, 15, 0, tzinfo=UTC), datetime(2026, 11, 6, 10, 0)),
        # Friday 09:59 local is still this Friday.
        (datetime(2026, 11, 27, 14, 59, tzinfo=UTC), datetime(2026, 11, 27, 10, 0)),
    ],
)
def test_next_slot_keeps_local_wall_time(now: datetime, expected_local: datetime) -> None:
    slot = review.next_slot("fri 10:00", NEW_YORK, now)
    assert slot.tzinfo is not None
    assert slot > now
    local = slot.astimezone(NEW_YORK)
    assert local.replace(tzinfo=None) == expected_local


def _issue(status: IssueStatus = IssueStatus.DRAFT, rendered: bool = True) -> Issue:
    now = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    variants = [factories.variant(now, "h", "t", subject="s")] if rendered else []
    return factories.issue(now, status=status, variants=variants)


NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def test_approve_then_unapprove() -> None:
    issue = _issue()
    review.approve(issue, "pub@example.org", NOW, LATER)
    assert (issue.status, issue.send_at, issue.approved_by) == (
        IssueStatus.APPROVED,
        LATER,
        "pub@example.org",
    )
    review.unapprove(issue, NOW)
    assert (issue.status, issue.send_at, issue.approved_by) == (IssueStatus.DRAFT, None, None)


def test_an_edit_after_approval_returns_to_draft() -> None:
    issue = _issue()
    review.approve(issue, "pub@example.org", NOW, LATER)
    review.reopen_after_edit(issue, NOW)
    assert issue.status == IssueStatus.DRAFT
    assert issue.status_reason == "edited after approval"


@pytest.mark.parametrize(
    ("issue", "action"),
    [
        (_issue(rendered=False), lambda i: review.approve(i, "p", NOW, LATER)),
        (_issue(), lambda i: review.approve(i, "p", NOW, NOW - timedelta(hours=1))),
        (_issue(IssueStatus.SENT), lambda i: review.cancel(i, NOW)),
        (_issue(IssueStatus.SENDING), lambda i: review.reopen_after_edit(i, NOW)),
        (_issue(IssueStatus.SENDING), lambda i: review.unapprove(i, NOW)),
        (_issue(IssueStatus.SENT), lambda i: review.send_now(i, "p", NOW)),
    ],
)
def test_refused_actions_change_nothing(issue: Issue, action) -> None:  # type: ignore[no-untyped-def]
    before = (issue.status, issue.send_at, issue.approved_by)
    with pytest.raises(review.ReviewError):
        action(issue)
    assert (issue.status, issue.send_at, issue.approved_by) == before


def test_send_now_approves_a_draft_for_now() -> None:
    issue = _issue()
    review.send_now(issue, "pub@example.org", NOW)
    assert (issue.status, issue.send_at) == (IssueStatus.APPROVED, NOW)
