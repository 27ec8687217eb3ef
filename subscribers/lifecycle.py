"""Every change of a subscriber's state goes through here, recorded with its time and cause."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from newsletter.bulk import BulkInsert, chunks, table_of
from subscribers.errors import TransitionError
from subscribers.models import Cause, Status, Subscriber, SubscriberEvent, Suppression

# (nothing) → pending | active: a signup, or an import the list owner vouches for;
# pending → active → unsubscribed | bounced | complained; a suppressed address can come back
# only through a new confirmation (pending → active again), never by import or admin alone.
ALLOWED: dict[Status | None, frozenset[Status]] = {
    None: frozenset({Status.PENDING, Status.ACTIVE}),
    Status.PENDING: frozenset({Status.ACTIVE, Status.UNSUBSCRIBED, Status.BOUNCED}),
    Status.ACTIVE: frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED}),
    Status.UNSUBSCRIBED: frozenset({Status.PENDING}),
    Status.BOUNCED: frozenset({Status.PENDING}),
    Status.COMPLAINED: frozenset({Status.PENDING}),
}
SUPPRESSING = frozenset({Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED})


def transition(
    session: Session,
    subscriber: Subscriber,
    to: Status,
    cause: Cause,
    now: datetime,
    detail: str = "",
    client_address: str | None = None,
) -> bool:
    """Move a subscriber to `to`; False (and nothing recorded) when it is already there.

    A new subscriber (no status yet) enters pending or active, and is added to the session.
    """
    current: Status | None = subscriber.status
    if current == to:
        return False
    if to not in ALLOWED[current]:
        raise TransitionError(subscriber.email, current, to)
    subscriber.status = to
    subscriber.updated_at = now
    if current is None:
        subscriber.created_at = now
        session.add(subscriber)
    if to == Status.ACTIVE:
        subscriber.confirmed_at = now
        if current is not None:  # a newcomer has nothing to lift; only a confirmation lifts it
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


class Newcomer(NamedTuple):
    """A subscriber to store by enter_many(): checked already, not yet on the list.

    A tuple, not a dataclass: an import makes one per row, and a tuple is made five times faster.
    """

    email: str
    name: str
    attributes: dict[str, Any]
    detail: str


_SUBSCRIBER_COLUMNS = (
    "email",
    "name",
    "status",
    "attributes",
    "soft_bounces",
    "confirmed_at",
    "created_at",
    "updated_at",
)
_EVENT_COLUMNS = (
    "subscriber_id",
    "at",
    "from_status",
    "to_status",
    "cause",
    "detail",
    "client_address",
)
# Addresses per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 2000
# Expanding IN: a batch's addresses are bound as they are, without building an expression each.
_EMAILS: BindParameter[list[str]] = bindparam("emails", expanding=True)
_IDS = select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(_EMAILS))
_SUPPRESSED = select(Suppression.email, Suppression.reason).where(Suppression.email.in_(_EMAILS))


def enter_many(
    session: Session, newcomers: Sequence[Newcomer], to: Status, cause: Cause, now: datetime
) -> list[int]:
    """transition() from nothing for many new addresses at once; their ids, in the order given.

    Driver-level executemany of plain tuples: every row shares its timestamps, status and
    cause, so each is converted for the database once, not once per row.
    """
    if to not in ALLOWED[None]:
        raise TransitionError(newcomers[0].email if newcomers else "", None, to)
    if not newcomers:
        return []
    connection = session.connection()
    subscribers = BulkInsert(connection, table_of(Subscriber), _SUBSCRIBER_COLUMNS)
    stamp = subscribers.convert("created_at", now)
    state = subscribers.convert("status", to)
    confirmed_at = stamp if to == Status.ACTIVE else None
    attributes = subscribers.processors["attributes"] or (lambda value: value)
    subscribers.run(
        [
            (one.email, one.name, state, attributes(one.attributes), 0, confirmed_at, stamp, stamp)
            for one in newcomers
        ]
    )
    id_of: dict[str, int] = {}
    for emails in chunks([one.email for one in newcomers], _IN_CHUNK):
        id_of.update((email, id_) for email, id_ in session.execute(_IDS, {"emails": emails}))
    ids = [id_of[one.email] for one in newcomers]
    events = BulkInsert(connection, table_of(SubscriberEvent), _EVENT_COLUMNS)
    at = events.convert("at", now)
    to_status = events.convert("to_status", to)
    why = events.convert("cause", cause)
    events.run(
        [
            (subscriber_id, at, None, to_status, why, one.detail, None)
            for subscriber_id, one in zip(ids, newcomers, strict=True)
        ]
    )
    return ids


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


def suppressed_among(session: Session, emails: Sequence[str]) -> dict[str, Cause]:
    """Which of these addresses are suppressed, and why: is_suppressed() for a whole batch."""
    found: dict[str, Cause] = {}
    for chunk in chunks(list(emails), _IN_CHUNK):
        for email, reason in session.execute(_SUPPRESSED, {"emails": chunk}):
            found[email] = Cause(reason)
    return found


def is_suppressed(session: Session, email: str) -> bool:
    return session.scalar(select(Suppression.id).where(Suppression.email == email)) is not None
