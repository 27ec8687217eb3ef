"""The issue status table: every move it lacks is refused, and no other module sets a status."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsletter.errors import ReviewError
from newsletter.issue_status import ALLOWED, move, sources_of
from newsletter.models import IssueStatus
from tests import factories

S = IssueStatus
AT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
LATER = AT + timedelta(hours=2)
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("to", list(S))
def test_only_the_tables_moves_are_made(current: IssueStatus, to: IssueStatus) -> None:
    issue = factories.issue(AT, status=current)
    if to in ALLOWED[current]:
        move(issue, to, LATER, "why")
        assert (issue.status, issue.status_reason, issue.updated_at) == (to, "why", LATER)
    else:
        with pytest.raises(ReviewError, match=f"is {current.value}; "):
            move(issue, to, LATER)
        assert (issue.status, issue.updated_at) == (current, AT)


def test_sent_and_cancelled_are_final_and_every_other_status_can_be_cancelled() -> None:
    assert ALLOWED[S.SENT] == ALLOWED[S.CANCELLED] == frozenset()
    assert sources_of(S.CANCELLED) == {S.DRAFT, S.APPROVED, S.SENDING, S.PAUSED}
    assert sources_of(S.PAUSED) == {S.SENDING}


def test_staying_renews_the_reason_only_when_asked() -> None:
    issue = factories.issue(AT, status=S.SENDING, sending_started_at=AT, status_reason="old")
    move(issue, S.SENDING, LATER, None, stay=True)
    assert (issue.status_reason, issue.sending_started_at) == (None, AT)
    approved = factories.issue(AT, status=S.APPROVED)
    with pytest.raises(ReviewError, match="only a draft can be approved"):
        move(approved, S.APPROVED, LATER)


def test_back_to_draft_forgets_the_approval_and_sent_is_stamped() -> None:
    issue = factories.issue(
        AT, status=S.APPROVED, approved_at=AT, approved_by="pub@example.org", send_at=LATER
    )
    move(issue, S.DRAFT, LATER)
    assert (issue.approved_at, issue.approved_by, issue.send_at) == (None, None, None)
    sending = factories.issue(AT, status=S.APPROVED)
    move(sending, S.SENDING, AT)
    move(sending, S.SENT, LATER)
    assert (sending.sending_started_at, sending.sent_at) == (AT, LATER)


def test_no_other_module_assigns_an_issue_status() -> None:
    assignment = re.compile(r"\.status\s*=\s*IssueStatus\.")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("newsletter", "subscribers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "issue_status.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if assignment.search(line)
    ]
    assert found == []
