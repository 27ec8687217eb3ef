"""What the operator does to the list directly: add one subscriber, list the newest."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.audience import topic_cadences
from subscribers.errors import SubscribersError
from subscribers.lifecycle import is_suppressed, transition
from subscribers.models import Cadence, Cause, Status, Subscriber
from subscribers.signup import signup


def add(
    session: Session,
    email: str,
    name: str,
    topics: AbstractSet[int],
    now: datetime,
    *,
    confirmed: bool,
    cadences: Mapping[int, Cadence] | None = None,
) -> int:
    """Add a normalised address: pending (a confirmation is due) or, consent given, active.

    SubscribersError when it is active already, or when it is suppressed and `confirmed`:
    only its owner can subscribe it again, through a confirmation email.
    """
    existing = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if existing is not None and existing.status == Status.ACTIVE:
        raise SubscribersError(f"{email} is already subscribed")
    if confirmed and is_suppressed(session, email):
        raise SubscribersError(
            f"{email} unsubscribed, bounced or complained: only its owner can subscribe it "
            "again, through a confirmation email (run without --confirmed)"
        )
    outcome = signup(session, email, name, topics, now, cause=Cause.ADMIN, cadences=cadences)
    if confirmed:
        subscriber = session.get(Subscriber, outcome.subscriber_id)
        assert subscriber is not None  # signup stored it in this transaction
        transition(session, subscriber, Status.ACTIVE, Cause.ADMIN, now, "added as confirmed")
    return outcome.subscriber_id


@dataclass(frozen=True)
class Listed:
    email: str
    name: str
    status: Status
    # Their topics' slugs (none: all) with how often, in slug order.
    topics: dict[str, Cadence]
    created_at: datetime


def newest(session: Session, status: Status | None, limit: int) -> list[Listed]:
    """At most `limit` subscribers, newest first, with their topics (none: all) and cadences."""
    query = select(Subscriber).order_by(Subscriber.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Subscriber.status == status)
    rows = list(session.scalars(query))
    topics = topic_cadences(session, [row.id for row in rows])
    return [
        Listed(
            row.email,
            row.name,
            row.status,
            dict(sorted(topics.get(row.id, {}).items())),
            row.created_at,
        )
        for row in rows
    ]
