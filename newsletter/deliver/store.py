"""The sender's view of an issue's deliveries: what it claims, sends and records, as a protocol.

`SqlDeliveryStore` (newsletter.deliver.sql_store) keeps them in the database;
`MemoryDeliveryStore` (newsletter.deliver.memory_store) keeps them in a dict, for fast tests of
the send engine. Both follow the same contract (tests/deliver/test_store.py runs it on each).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from newsletter.config import DeliverySettings
from newsletter.deliver.message import Rendered
from newsletter.deliver.plan import Counts
from newsletter.errors import DeliveryError
from newsletter.models import DeliveryStatus
from subscribers.models import Status

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)

# A delivery's status before and after an outcome was recorded: what the tally moves.
Move = tuple[DeliveryStatus, DeliveryStatus]


@dataclass(frozen=True)
class Row:
    """A claimed delivery with what sending it needs to know about its subscriber."""

    id: int
    subscriber_id: int
    variant_id: int | None
    attempts: int
    delivery_status: DeliveryStatus
    email: str
    name: str
    status: Status
    # subscribers.audience.receives() at the moment of the claim: False skips the delivery.
    eligible: bool


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


@dataclass(frozen=True)
class Retry:
    """How long a delivery is retried: the issue's deadline and the delivery settings."""

    settings: DeliverySettings
    deadline: datetime


class DeliveryStore(Protocol):
    """One issue's deliveries, as the sender claims and settles them."""

    def claim(self, holder: str, now: datetime, until: datetime, limit: int) -> list[Row]:
        """Claim up to `limit` due deliveries (lowest ids first) for `holder` until `until`."""
        ...

    def release(self, holder: str, ids: Collection[int]) -> None:
        """Give back rows this holder claimed and did not settle."""
        ...

    def renew(self, holder: str, until: datetime) -> int:
        """Extend this holder's open claims to `until`; called from the heartbeat's thread."""
        ...

    def record(self, outcomes: list[Outcome], now: datetime) -> list[Move]:
        """Store what the mail server said for each message; return each row's move."""
        ...

    def settle(self, delivery_id: int, status: DeliveryStatus, reason: str) -> None:
        """A delivery settled without sending: skipped, or a message that cannot be built."""
        ...

    def counts(self) -> Counts:
        """Where the issue's deliveries stand."""
        ...

    def open_count(self, limit: int) -> int:
        """Open (pending or deferred) deliveries, counted up to `limit`: a bounded scan."""
        ...

    def sending(self) -> bool:
        """False once the issue is paused or cancelled from elsewhere."""
        ...
