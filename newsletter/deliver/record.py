"""Recording outcomes: what each reply means for its delivery, stored a handful at a time.

`decide()` is the rule (sent, failed, or retried later) and takes plain values; both delivery
stores apply it, the SQL one here in `record()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.receipts import give_back
from newsletter.deliver.store import Move, Outcome, Retry
from newsletter.errors import PermanentFailure
from newsletter.models import Delivery, DeliveryStatus
from subscribers.lifecycle import transition
from subscribers.models import Cause, Status, Subscriber

MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Decision:
    """What becomes of a delivery after one attempt."""

    status: DeliveryStatus
    attempts: int
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    bounced: bool = False  # 5.1.x: the address does not exist; its subscriber is marked bounced


def decide(outcome: Outcome, retry: Retry, now: datetime) -> Decision:
    """Accepted → sent; 5xx → failed; anything else retried with exponential backoff.

    Retries stop at the issue's retry deadline or the delivery's max_attempts, then fail: a small
    list never loops for ever.
    """
    job, error = outcome.job, outcome.error
    attempts = job.attempts + 1
    if error is None:
        return Decision(DeliveryStatus.SENT, attempts, sent_at=now)
    if isinstance(error, PermanentFailure):
        bounced = bool(error.enhanced and error.enhanced.startswith("5.1."))
        return Decision(DeliveryStatus.FAILED, attempts, last_error=str(error), bounced=bounced)
    settings = retry.settings
    retry_at = now + min(
        timedelta(seconds=settings.retry_base_seconds * 2 ** (attempts - 1)), MAX_BACKOFF
    )
    if retry_at > retry.deadline:
        reason = f"gave up at the retry deadline: {error}"
        return Decision(DeliveryStatus.FAILED, attempts, last_error=reason)
    if attempts >= settings.max_attempts:
        reason = f"gave up after {attempts} attempts: {error}"
        return Decision(DeliveryStatus.FAILED, attempts, last_error=reason)
    return Decision(
        DeliveryStatus.DEFERRED, attempts, next_attempt_at=retry_at, last_error=str(error)
    )


def record(
    sessions: sessionmaker[Session], outcomes: list[Outcome], retry: Retry, now: datetime
) -> list[Move]:
    """Store what the mail server said for each message; return each row's (was, now) status.

    Each row's claim is given back in the same statement.
    """
    rows: list[dict[str, object]] = []
    moves: list[Move] = []
    bounced: list[tuple[int, str]] = []
    failed: list[int] = []  # their receipts are given back: the stories never reached them
    for outcome in outcomes:
        job = outcome.job
        decision = decide(outcome, retry, now)
        rows.append(
            {
                "id": job.delivery_id,
                "status": decision.status,
                "attempts": decision.attempts,
                "message_id": job.rendered.message_id,
                "sent_at": decision.sent_at,
                "next_attempt_at": decision.next_attempt_at,
                "last_error": decision.last_error,
                "claimed_by": None,
                "claimed_until": None,
            }
        )
        if decision.status == DeliveryStatus.FAILED:
            failed.append(job.delivery_id)
        if decision.bounced:
            bounced.append((job.subscriber_id, str(outcome.error)))
        moves.append((job.was, decision.status))
    with sessions.begin() as session:
        session.execute(update(Delivery), rows)
        give_back(session, failed)
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
        give_back(session, [delivery_id])
