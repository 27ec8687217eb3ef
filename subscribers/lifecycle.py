"""Every change of a subscriber's state goes through here, recorded with its time and cause."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.models import Cause, Status, Subscriber, SubscriberEvent, Suppression

# pending → active → unsubscribed | bounced | complained; a suppressed address can come back
# only through a new confirmation (pending → active again), never by import or admin alone.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.ACTIVE, Status.UNSUBSCRIBED, Status.BOUNCED}),
    Status.ACTIVE: frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED}),
    Status.UNSUBSCRIBED: frozenset({Status.PENDING}),
    Status.BOUNCED: frozenset({Status.PENDING}),
    Status.COMPLAINED: frozenset({Status.PENDING}),
}
SUPPRESSING = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED})


class TransitionError(Exception):
    """A change of state the lifecycle does not allow."""


def transition(
    session: Session,
    subscriber: Subscriber,
    to: Status,
    cause: Cause,
    now: datetime,
    detail: str = "",
    client_address: str | None = None,
) -> bool:
    """Move a subscriber to `to`; False (and nothing recorded) when it is already there."""
    current = subscriber.status
    if current == to:
        return False
    if to not in ALLOWED[current]:
        raise TransitionError(f"{subscriber.email}: cannot go from {current} to {to}")
    subscriber.status = to
    subscriber.updated_at = now
    if to == Status.ACTIVE:
        subscriber.confirmed_at = now
        lift_suppression(session, subscriber.email)
    elif to in SUPPRESSING:
        if to == Status.UNSUBSCRIBED:
            subscriber.unsubscribed_at = now
        suppress(session, subscriber.email, cause, now, detail)
    session.add(
        SubscriberEvent(
            subscriber=subscriber,
            at=now,
            from_status=current,
            to_status=to,
            cause=cause,
            detail=detail,
            client_address=client_address,
        )
    )
    return True


def record(
    session: Session,
    subscriber: Subscriber,
    cause: Cause,
    now: datetime,
    detail: str,
    client_address: str | None = None,
) -> None:
    """Record a change that keeps the status (topics, pause) with its time and cause."""
    session.add(
        SubscriberEvent(
            subscriber=subscriber,
            at=now,
            from_status=subscriber.status,
            to_status=subscriber.status,
            cause=cause,
            detail=detail,
            client_address=client_address,
        )
    )


def suppress(session: Session, email: str, reason: Cause, now: datetime, detail: str = "") -> None:
    """Put an address on the list that no path may mail, keeping the first reason."""
    if not is_suppressed(session, email):
        session.add(Suppression(email=email, reason=reason, detail=detail, created_at=now))


def lift_suppression(session: Session, email: str) -> None:
    """Only a fresh confirmation by the address's owner lifts its suppression."""
    for row in session.scalars(select(Suppression).where(Suppression.email == email)):
        session.delete(row)


def is_suppressed(session: Session, email: str) -> bool:
    return session.scalar(select(Suppression.id).where(Suppression.email == email)) is not None
