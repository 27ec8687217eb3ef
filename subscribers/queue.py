"""The queue of signups between the web form and the background sender: bounded, leased, retried."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from subscribers.errors import QueueFull
from subscribers.models import SignupRequest

# Beyond this many waiting signups the form says "try again later": the table cannot grow
# without end when the mail server is down or someone floods the form from many addresses.
QUEUE_MAX = 10_000
# A request being worked on is hidden this long; a sender that crashed leaves it to the next.
LEASE = timedelta(minutes=10)
# Waits after the 1st, 2nd, ... failed send; after the last one the request is given up.
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1


def enqueue(
    session: Session,
    email: str,
    name: str,
    topics: AbstractSet[int],
    client_address: str | None,
    now: datetime,
    origin: dict[str, Any] | None = None,
    kind: str = "signup",
    cadences: dict[str, str] | None = None,
) -> int:
    """Add a checked signup (normalised address, checked name, topic ids); QueueFull when full."""
    waiting = session.scalar(select(func.count()).select_from(SignupRequest)) or 0
    if waiting >= QUEUE_MAX:
        raise QueueFull(waiting)
    request = SignupRequest(
        email=email,
        name=name,
        topics=sorted(topics),
        cadences=cadences,
        client_address=client_address,
        origin=origin,
        kind=kind,
        requested_at=now,
        due_at=now,
        attempts=0,
    )
    session.add(request)
    session.flush()
    return request.id


def due(session: Session, now: datetime, limit: int) -> list[int]:
    """The ids of requests to work on now, oldest first."""
    query = (
        select(SignupRequest.id)
        .where(SignupRequest.due_at <= now)
        .order_by(SignupRequest.due_at, SignupRequest.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def lease(session: Session, request_id: int, now: datetime) -> SignupRequest | None:
    """Take a due request for LEASE and count the attempt; None when another sender has it.

    One conditional UPDATE, so two senders (two web processes) never work on the same one.
    """
    taken = session.execute(
        update(SignupRequest)
        .where(SignupRequest.id == request_id, SignupRequest.due_at <= now)
        .values(due_at=now + LEASE, attempts=SignupRequest.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    return session.get(SignupRequest, request_id, populate_existing=True)


def retry_after(attempts: int) -> timedelta | None:
    """How long to wait after `attempts` failed sends; None once it is time to give up."""
    return RETRY_AFTER[attempts - 1] if attempts < MAX_ATTEMPTS else None
