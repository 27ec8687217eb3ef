"""Recording outcomes: one short transaction per handful, each row's claim given back with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config import DeliverySettings
from newsletter.deliver.message import Rendered
from newsletter.errors import DeliveryError, PermanentFailure
from newsletter.models import Delivery, DeliveryStatus
from subscribers.lifecycle import transition
from subscribers.models import Cause, Status, Subscriber

MAX_BACKOFF = timedelta(hours=6)


@dataclass
class Job:
    delivery_id: int
    subscriber_id: int
    attempts: int
    rendered: Rendered
    recipient: str
    was: DeliveryStatus
    relay: str = ""


@dataclass
class Outcome:
    job: Job
    error: DeliveryError | None
    sent: bool  # False: never handed over (stopped while waiting for the rate limit)


def record(
    sessions: sessionmaker[Session],
    outcomes: list[Outcome],
    settings: DeliverySettings,
    deadline: datetime,
    now: datetime,
) -> list[tuple[DeliveryStatus, DeliveryStatus]]:
    """Store what the mail server said for each message; return each row's (was, now) status.

    Accepted → sent; 5xx → failed (5.1.x also marks the subscriber bounced); anything else is
    retried with exponential backoff until the issue's retry deadline or the delivery's
    max_attempts, then failed: a small list never loops for ever.
    """
    rows: list[dict[str, object]] = []
    moves: list[tuple[DeliveryStatus, DeliveryStatus]] = []
    bounced: list[tuple[int, str]] = []
    for outcome in outcomes:
        job, error = outcome.job, outcome.error
        attempts = job.attempts + 1
        row: dict[str, object] = {
            "id": job.delivery_id,
            "attempts": attempts,
            "message_id": job.rendered.message_id,
            "sent_at": None,
            "next_attempt_at": None,
            "last_error": None,
            "claimed_by": None,
            "claimed_until": None,
        }
        if error is None:
            row.update(status=DeliveryStatus.SENT, sent_at=now)
        elif isinstance(error, PermanentFailure):
            row.update(status=DeliveryStatus.FAILED, last_error=str(error))
            if error.enhanced and error.enhanced.startswith("5.1."):
                bounced.append((job.subscriber_id, str(error)))
        else:
            retry_at = now + min(
                timedelta(seconds=settings.retry_base_seconds * 2 ** (attempts - 1)),
                MAX_BACKOFF,
            )
            if retry_at > deadline:
                row.update(
                    status=DeliveryStatus.FAILED,
                    last_error=f"gave up at the retry deadline: {error}",
                )
            elif attempts >= settings.max_attempts:
                row.update(
                    status=DeliveryStatus.FAILED,
                    last_error=f"gave up after {attempts} attempts: {error}",
                )
            else:
                row.update(
                    status=DeliveryStatus.DEFERRED, next_attempt_at=retry_at, last_error=str(error)
                )
        rows.append(row)
        moves.append((job.was, DeliveryStatus(str(row["status"]))))
    with sessions.begin() as session:
        session.execute(update(Delivery), rows)
        for subscriber_id, detail in bounced:
            subscriber = session.get(Subscriber, subscriber_id)
            if subscriber is not None and subscriber.status == Status.ACTIVE:
                transition(session, subscriber, Status.BOUNCED, Cause.BOUNCE, now, detail)
    return moves


def settle(
    sessions: sessionmaker[Session], delivery_id: int, status: DeliveryStatus, reason: str
) -> None:
    """A delivery settled without sending anything: skipped, or a message we cannot build."""
    with sessions.begin() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(status=status, last_error=reason, claimed_by=None, claimed_until=None)
        )
