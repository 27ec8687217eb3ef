"""One scheduler per database: a lease row taken, renewed and handed over by timestamps."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.schedule.models import SchedulerLease

LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class LeaseInfo:
    holder: str
    acquired_at: datetime
    expires_at: datetime

    def held_at(self, now: datetime) -> bool:
        return self.expires_at > now


def new_holder_id() -> str:
    """Names this process in the lease and in /healthz: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def take(sessions: sessionmaker[Session], holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease, or renew it if ours; False while another live holder has it.

    One conditional UPDATE decides: concurrent takers on PostgreSQL wait on the row and then
    see the winner's fresh expiry, on SQLite the write lock serialises them.
    """
    until = now + ttl
    with sessions.begin() as session:
        renewed = session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
            .values(renewed_at=now, expires_at=until)
        )
        if renewed.rowcount:  # type: ignore[attr-defined]
            return True
        taken = session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE_NAME)
            .where(SchedulerLease.expires_at <= now)
            .values(holder=holder, acquired_at=now, renewed_at=now, expires_at=until)
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            return True
        exists = session.scalar(
            select(SchedulerLease.name).where(SchedulerLease.name == LEASE_NAME)
        )
        if exists is not None:
            return False
    try:
        with sessions.begin() as session:
            session.add(
                SchedulerLease(
                    name=LEASE_NAME,
                    holder=holder,
                    acquired_at=now,
                    renewed_at=now,
                    expires_at=until,
                )
            )
    except IntegrityError:
        return False  # another process created the row first: it holds the lease
    return True


def release(sessions: sessionmaker[Session], holder: str, now: datetime) -> None:
    """Let the lease go at once (a clean stop), so a standby takes over without waiting."""
    with sessions.begin() as session:
        session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
            .values(expires_at=now)
        )


def current(session: Session) -> LeaseInfo | None:
    row = session.get(SchedulerLease, LEASE_NAME)
    if row is None:
        return None
    return LeaseInfo(row.holder, row.acquired_at, row.expires_at)
