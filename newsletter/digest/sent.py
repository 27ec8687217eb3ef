"""Issues as readers know them: the subject they got, and the newest one in the archive."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.digest.build import SENT_STATES
from newsletter.models import Issue


def reader_subject(issue: Issue) -> str:
    """The subject readers get: the editor's own, else the all-topics variant's rendered one."""
    if issue.subject:
        return issue.subject
    # The all-topics variant's key, "", sorts first.
    first = min(issue.variants, key=lambda variant: variant.topic_key, default=None)
    return first.subject if first is not None else ""


def latest_sent(session: Session) -> Issue | None:
    """The issue the archive lists first: the newest week that went out (or is going out)."""
    return session.scalars(
        select(Issue)
        .where(Issue.status.in_(SENT_STATES))
        .order_by(Issue.period_end.desc(), Issue.id.desc())
        .options(selectinload(Issue.variants))
        .limit(1)
    ).first()
