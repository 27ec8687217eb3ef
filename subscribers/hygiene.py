"""List hygiene: signups never confirmed are deleted once they are old enough."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from subscribers.models import Status, Subscriber

# Deleted this many at a time, each batch its own transaction: short locks on a big list.
BATCH = 1000


def prune_unconfirmed(sessions: sessionmaker[Session], now: datetime, days: int) -> int:
    """Delete pending subscribers who never confirmed and signed up over `days` ago; how many.

    Someone who confirmed once (and signed up again since) is kept, with their history; 0 days
    prunes nobody. Their events, topics and queued requests go with them (foreign keys cascade).
    """
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    stale = (
        select(Subscriber.id)
        .where(
            Subscriber.status == Status.PENDING,
            Subscriber.confirmed_at.is_(None),
            Subscriber.created_at < cutoff,
        )
        .order_by(Subscriber.id)
        .limit(BATCH)
    )
    deleted = 0
    while True:
        with sessions.begin() as session:
            ids = list(session.scalars(stale))
            if not ids:
                return deleted
            session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
            deleted += len(ids)
