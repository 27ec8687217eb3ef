"""The delivery store in memory: the same contract as the SQL one, for fast tests of the sender."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.deliver.plan import Counts
from newsletter.deliver.record import decide
from newsletter.deliver.store import OPEN, Move, Outcome, Retry, Row
from newsletter.models import DeliveryStatus
from subscribers.models import Status


@dataclass
class MemoryDelivery:
    """A delivery row with its subscriber's address and standing folded in."""

    id: int
    subscriber_id: int
    email: str
    name: str = ""
    variant_id: int | None = 1
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    subscriber_status: Status = Status.ACTIVE
    # What subscribers.audience.receives() would say; a test sets it to False to take them off.
    eligible: bool = True
    message_id: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None


@dataclass
class MemoryDeliveryStore:
    """DeliveryStore over a dict of deliveries; thread-safe, as senders may share it."""

    retry: Retry
    rows: dict[int, MemoryDelivery] = field(default_factory=dict)
    status_sending: bool = True
    bounced: set[int] = field(default_factory=set)  # subscriber ids marked bounced
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, subscriber_id: int, email: str, **fields: object) -> MemoryDelivery:
        """Plan one delivery (ids follow the order of planning, as in the table)."""
        row = MemoryDelivery(len(self.rows) + 1, subscriber_id, email, **fields)  # type: ignore[arg-type]
        self.rows[row.id] = row
        return row

    def leave(self, subscriber_id: int, status: Status = Status.UNSUBSCRIBED) -> None:
        """The subscriber is no longer mailed: unsubscribed, suppressed or paused."""
        for row in self.rows.values():
            if row.subscriber_id == subscriber_id:
                row.subscriber_status, row.eligible = status, False

    def claim(self, holder: str, now: datetime, until: datetime, limit: int) -> list[Row]:
        with self._lock:
            due = [
                row
                for row in sorted(self.rows.values(), key=lambda row: row.id)
                if row.status in OPEN
                and (row.next_attempt_at is None or row.next_attempt_at <= now)
                and (row.claimed_until is None or row.claimed_until <= now)
            ][:limit]
            for row in due:
                row.claimed_by, row.claimed_until = holder, until
            return [
                Row(
                    row.id,
                    row.subscriber_id,
                    row.variant_id,
                    row.attempts,
                    row.status,
                    row.email,
                    row.name,
                    row.subscriber_status,
                    row.eligible,
                )
                for row in due
            ]

    def release(self, holder: str, ids: Collection[int]) -> None:
        with self._lock:
            for delivery_id in ids:
                row = self.rows[delivery_id]
                if row.claimed_by == holder:
                    row.claimed_by, row.claimed_until = None, None

    def renew(self, holder: str, until: datetime) -> int:
        with self._lock:
            held = [
                row for row in self.rows.values() if row.claimed_by == holder and row.status in OPEN
            ]
            for row in held:
                row.claimed_until = until
            return len(held)

    def record(self, outcomes: list[Outcome], now: datetime) -> list[Move]:
        moves: list[Move] = []
        with self._lock:
            for outcome in outcomes:
                decision = decide(outcome, self.retry, now)
                row = self.rows[outcome.job.delivery_id]
                row.status, row.attempts = decision.status, decision.attempts
                row.message_id = outcome.job.rendered.message_id
                row.sent_at, row.next_attempt_at = decision.sent_at, decision.next_attempt_at
                row.last_error = decision.last_error
                row.claimed_by, row.claimed_until = None, None
                if decision.bounced and row.subscriber_status == Status.ACTIVE:
                    self.bounced.add(row.subscriber_id)
                    self.leave(row.subscriber_id, Status.BOUNCED)
                moves.append((outcome.job.was, decision.status))
        return moves

    def settle(self, delivery_id: int, status: DeliveryStatus, reason: str) -> None:
        with self._lock:
            row = self.rows[delivery_id]
            row.status, row.last_error = status, reason
            row.claimed_by, row.claimed_until = None, None

    def counts(self) -> Counts:
        with self._lock:
            tally = dict.fromkeys((status.value for status in DeliveryStatus), 0)
            for row in self.rows.values():
                tally[row.status.value] += 1
        return Counts(**tally)

    def open_count(self, limit: int) -> int:
        with self._lock:
            return min(limit, sum(1 for row in self.rows.values() if row.status in OPEN))

    def sending(self) -> bool:
        return self.status_sending
