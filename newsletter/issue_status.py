"""Every change of an issue's status goes through here: one table of the moves allowed."""

from __future__ import annotations

from datetime import datetime

from newsletter.errors import ReviewError
from newsletter.models import Issue, IssueStatus

S = IssueStatus

# draft → approved → sending → sent, with pauses while sending; an approved issue can go back
# to draft until it starts sending; anything not yet sent can be cancelled; sent and cancelled
# are final (a cancelled issue's week is built anew as another issue, never revived).
ALLOWED: dict[IssueStatus, frozenset[IssueStatus]] = {
    S.DRAFT: frozenset({S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DRAFT, S.SENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.PAUSED, S.SENT, S.CANCELLED}),
    S.PAUSED: frozenset({S.SENDING, S.CANCELLED}),
    S.SENT: frozenset(),
    S.CANCELLED: frozenset(),
}

# What a refused move says after "issue K is <status>; ".
_REFUSAL = {
    S.DRAFT: "only an approved issue that has not started sending can go back to draft",
    S.APPROVED: "only a draft can be approved",
    S.SENDING: "only an approved or paused issue can be sent",
    S.PAUSED: "only an issue that is sending can be paused",
    S.SENT: "only an issue that is sending can be sent",
    S.CANCELLED: "there is nothing to cancel",
}


def sources_of(to: IssueStatus) -> frozenset[IssueStatus]:
    """The statuses an issue may move to `to` from: the guard of a conditional UPDATE."""
    return frozenset(status for status, targets in ALLOWED.items() if to in targets)


def move(
    issue: Issue, to: IssueStatus, now: datetime, reason: str | None = None, *, stay: bool = False
) -> None:
    """Move `issue` to `to` with its reason, or ReviewError naming what the table allows.

    With `stay`, an issue already there only renews its reason (a resumed send stays sending);
    without, approving an approved issue is refused like any move the table lacks. Leaving
    approval for draft forgets who approved it: what was approved is no longer what is.
    """
    current = issue.status
    if not (stay and current == to) and to not in ALLOWED[current]:
        raise ReviewError(f"issue {issue.key} is {current}; {_REFUSAL[to]}")
    issue.status = to
    issue.status_reason = reason
    issue.updated_at = now
    if to == S.DRAFT:
        issue.approved_at = None
        issue.approved_by = None
        issue.send_at = None
    elif to == S.SENDING:
        issue.sending_started_at = issue.sending_started_at or now
    elif to == S.SENT:
        issue.sent_at = now
