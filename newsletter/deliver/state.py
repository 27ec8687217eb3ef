"""An issue's sending state: approved → sending → sent, or paused; every change one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import update

from newsletter.deliver.plan import (
    Counts,
    RecipientKeys,
    RenderVariant,
    delivery_counts,
    plan,
    same_keys,
)
from newsletter.errors import SendError
from newsletter.issue_status import move, sources_of
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    issue_id: int
    status: IssueStatus
    counts: Counts
    reason: str | None = None
    # The sender paused the issue itself: the relay or outbox refuses everything, not a person.
    fault: bool = False
    # `digest send --processes N`: each sender process that died, in one line (who, how).
    crashed: tuple[str, ...] = ()

    def summary(self) -> str:
        """The one line `digest send` prints and the scheduler logs when a send ends."""
        c = self.counts
        return (
            f"issue {self.issue_id}: {self.status.value}; sent {c.sent}, failed {c.failed}, "
            f"skipped {c.skipped}, left {c.remaining} of {c.total}"
        )


def start(
    runtime: Runtime,
    issue_id: int,
    render_missing: RenderVariant,
    recipient_keys: RecipientKeys = same_keys,
) -> None:
    """Plan an approved issue (resumably) and mark it sending; a paused one simply resumes."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            raise SendError(f"no issue with id {issue_id}")
        status = issue.status
    if status in (IssueStatus.DRAFT, IssueStatus.CANCELLED):
        raise SendError(f"issue {issue_id} is {status.value}; approve it before sending")
    if status == IssueStatus.SENT:
        raise SendError(f"issue {issue_id} was already sent")
    if status == IssueStatus.APPROVED:
        # Planning is itself resumable; the issue becomes "sending" once everyone is planned.
        added = plan(runtime.sessions, issue_id, now, render_missing, recipient_keys)
        log.info("issue %s: planned %s deliveries", issue_id, added)
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        move(issue, IssueStatus.SENDING, now, stay=True)


def pause(runtime: Runtime, issue_id: int, reason: str) -> bool:
    """Pause a sending issue (every sender stops at its next batch); False if it was not sending."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        result = session.execute(
            update(Issue)
            .where(Issue.id == issue_id, Issue.status.in_(sources_of(IssueStatus.PAUSED)))
            .values(status=IssueStatus.PAUSED, status_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def finish(
    runtime: Runtime, issue_id: int, pause_reason: str | None, stopped_reason: str | None
) -> SendResult:
    """Settle the issue's status from its delivery rows: sent when none is left open.

    Only a sending issue changes: a worker finishing late never undoes an editor's pause.
    """
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id, with_for_update=True)
        assert issue is not None
        counts = delivery_counts(session, issue_id)
        if issue.status == IssueStatus.SENDING:
            if pause_reason is not None:
                move(issue, IssueStatus.PAUSED, now, pause_reason)
            elif counts.remaining == 0:
                move(issue, IssueStatus.SENT, now)
            elif stopped_reason is not None:
                move(issue, IssueStatus.SENDING, now, stopped_reason, stay=True)
        return SendResult(issue_id, issue.status, counts, issue.status_reason)
