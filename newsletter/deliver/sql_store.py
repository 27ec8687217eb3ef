"""The delivery store in the database: claims, outcomes and counts of one issue's delivery rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver import claim as claims
from newsletter.deliver.plan import Counts, delivery_counts
from newsletter.deliver.record import record, settle
from newsletter.deliver.store import OPEN, Move, Outcome, Retry, Row
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus


class SqlDeliveryStore:
    """DeliveryStore over the deliveries table; every call is its own short transaction."""

    def __init__(self, sessions: sessionmaker[Session], issue_id: int, retry: Retry) -> None:
        self.sessions = sessions
        self.issue_id = issue_id
        self.retry = retry

    def claim(self, holder: str, now: datetime, until: datetime, limit: int) -> list[Row]:
        return claims.claim(self.sessions, self.issue_id, holder, now, until, limit)

    def release(self, holder: str, ids: Collection[int]) -> None:
        claims.release(self.sessions, holder, ids)

    def renew(self, holder: str, until: datetime) -> int:
        return claims.renew(self.sessions, holder, until)

    def record(self, outcomes: list[Outcome], now: datetime) -> list[Move]:
        return record(self.sessions, outcomes, self.retry, now)

    def settle(self, delivery_id: int, status: DeliveryStatus, reason: str) -> None:
        settle(self.sessions, delivery_id, status, reason)

    def counts(self) -> Counts:
        with self.sessions() as session:
            return delivery_counts(session, self.issue_id)

    def open_count(self, limit: int) -> int:
        due = (
            select(Delivery.id)
            .where(Delivery.issue_id == self.issue_id, Delivery.status.in_(OPEN))
            .limit(limit)
            .subquery()
        )
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(due)) or 0)

    def sending(self) -> bool:
        with self.sessions() as session:
            issue = session.get(Issue, self.issue_id)
            status = issue.status if issue is not None else IssueStatus.CANCELLED
        return status == IssueStatus.SENDING
