"""What the send job should do now: send, resume, approve automatically, or hold and tell."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.editors.review import next_slot
from newsletter.models import Issue, IssueStatus

AUTO_APPROVER = "auto-send"


@dataclass
class Decisions:
    send: list[int] = field(default_factory=list)  # approved and due, or interrupted: resume
    approve: list[Issue] = field(default_factory=list)  # drafts at their slot with auto_send
    hold: list[tuple[Issue, str]] = field(default_factory=list)  # not sent; editors are told


def send_slot(issue: Issue, settings: Settings) -> datetime:
    """A draft's send time: the first send slot ("fri 10:00", local) after it was built."""
    return next_slot(settings.digest.send, settings.zone, issue.period_end)


def decide(session: Session, settings: Settings, now: datetime) -> Decisions:
    """Sort the open issues; a time passed longer than the grace period ago is never acted on."""
    grace = timedelta(hours=settings.schedule.send_grace_hours)
    late = f"its send time passed more than {settings.schedule.send_grace_hours:g} hours ago"
    decisions = Decisions()
    issues = session.scalars(
        select(Issue)
        .where(Issue.status.in_([IssueStatus.DRAFT, IssueStatus.APPROVED, IssueStatus.SENDING]))
        .order_by(Issue.id)
    )
    for issue in issues:
        if issue.status == IssueStatus.SENDING:
            # Stopped by a restart or a signal, or waiting on deferred deliveries: carry on.
            decisions.send.append(issue.id)
        elif issue.status == IssueStatus.APPROVED:
            if issue.send_at is None or issue.send_at > now:
                continue
            if issue.send_at >= now - grace:
                decisions.send.append(issue.id)
            elif issue.held_at is None or issue.held_at < issue.send_at:
                decisions.hold.append((issue, f"{late} (the service was not running)"))
        elif issue.held_at is None:
            slot = send_slot(issue, settings)
            if slot > now:
                continue
            if not settings.digest.auto_send:
                decisions.hold.append((issue, "no publisher approved it by its send time"))
            elif slot >= now - grace:
                decisions.approve.append(issue)
            else:
                decisions.hold.append((issue, f"{late}; it was not sent automatically"))
    return decisions
