"""Claiming due deliveries, so that two senders never take the same row.

A claim is (claimed_by, claimed_until) on the row, written by one UPDATE whose inner SELECT locks
with FOR UPDATE SKIP LOCKED on PostgreSQL (concurrent claimers pass over each other's rows
instead of waiting) and re-checks the claim in the outer WHERE, so a row that changed hands
while the statement waited is not taken twice. SQLite runs the same statement under its
database-wide write lock. A live sender renews its claims (newsletter.deliver.heartbeat), so
claims can be short: a sender that dies leaves its rows claimed only until claimed_until, then
any sender may take them again.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.store import OPEN, Row
from newsletter.models import Delivery
from subscribers.audience import receives
from subscribers.models import Subscriber

__all__ = [
    "LOCAL",
    "OPEN",
    "Row",
    "claim",
    "holder_name",
    "release",
    "release_holder",
    "release_local",
    "renew",
    "seconds_until_due",
]

LOCAL = "local:"


def holder_name(kind: str, *, pid: int | None = None, token: str | None = None) -> str:
    """Who holds a claim: `local:` for the in-process sender, `worker:` for a Celery worker.

    A parent names its child's claims by the child's `pid` and the `token` it gave the child.
    """
    token = token or uuid.uuid4().hex[:8]
    return f"{kind}:{socket.gethostname()}:{pid or os.getpid()}:{token}"


def _claimable(issue_id: int, now: datetime) -> ColumnElement[bool]:
    return and_(
        Delivery.issue_id == issue_id,
        Delivery.status.in_(OPEN),
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now),
    )


def claim(
    sessions: sessionmaker[Session],
    issue_id: int,
    holder: str,
    now: datetime,
    until: datetime,
    limit: int,
) -> list[Row]:
    """Claim up to `limit` due deliveries of an issue (lowest ids first) for `holder`."""
    due = (
        select(Delivery.id)
        .where(_claimable(issue_id, now))
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # A CTE is evaluated once: as a plain IN (subquery), PostgreSQL may rescan it and,
        # skipping the rows it has just locked, return more than the LIMIT.
        .cte("due")
    )
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(select(due.c.id)))
        .where(_claimable(issue_id, now))
        .values(claimed_by=holder, claimed_until=until)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    with sessions.begin() as session:
        ids = list(session.scalars(statement))
        if not ids:
            return []
        rows = session.execute(
            select(
                Delivery.id,
                Delivery.subscriber_id,
                Delivery.variant_id,
                Delivery.attempts,
                Delivery.status,
                Subscriber.email,
                Subscriber.name,
                Subscriber.status,
                # The same rule planning selected by, checked again as the row is claimed.
                receives(now).label("eligible"),
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.id.in_(ids))
            .where(Delivery.claimed_by == holder)
            .order_by(Delivery.id)
        )
        return [Row(*row[:-1], eligible=bool(row[-1])) for row in rows]


def release(sessions: sessionmaker[Session], holder: str, ids: Collection[int]) -> None:
    """Give back rows this holder claimed and did not settle; others may take them at once."""
    if not ids:
        return
    with sessions.begin() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(ids)))
            .where(Delivery.claimed_by == holder)
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def renew(sessions: sessionmaker[Session], holder: str, until: datetime) -> int:
    """Extend every open claim this holder has to `until` (its heartbeat); how many it holds."""
    with sessions.begin() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.claimed_by == holder, Delivery.status.in_(OPEN))
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def release_holder(sessions: sessionmaker[Session], holder: str) -> int:
    """Free every open claim of a holder known to be dead (a sender process that crashed)."""
    with sessions.begin() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.claimed_by == holder, Delivery.status.in_(OPEN))
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def release_local(sessions: sessionmaker[Session], issue_id: int) -> int:
    """Free claims left by an in-process sender that died; only the issue lock's holder calls it.

    The lock proves no other in-process sender is alive; workers' claims are left to time out.
    """
    with sessions.begin() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.issue_id == issue_id)
            .where(Delivery.claimed_by.startswith(LOCAL))
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def seconds_until_due(
    sessions: sessionmaker[Session], issue_id: int, now: datetime
) -> float | None:
    """When an open delivery can next be claimed (a retry, or a claim running out); None: done.

    An early answer only costs a poll that finds nothing.
    """
    open_rows = and_(Delivery.issue_id == issue_id, Delivery.status.in_(OPEN))
    unclaimed = or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now)
    with sessions() as session:
        if session.scalar(select(Delivery.id).where(open_rows).limit(1)) is None:
            return None
        retry = session.execute(
            select(Delivery.next_attempt_at)
            .where(open_rows, unclaimed)
            .order_by(Delivery.next_attempt_at.asc().nulls_first())
            .limit(1)
        ).first()
        held = session.scalar(
            select(Delivery.claimed_until)
            .where(open_rows, Delivery.claimed_until > now)
            .order_by(Delivery.claimed_until)
            .limit(1)
        )
    candidates = [held] if held is not None else []
    if retry is not None:
        candidates.append(retry[0] or now)
    if not candidates:
        return 0.0
    return max(0.0, (min(candidates) - now).total_seconds())
