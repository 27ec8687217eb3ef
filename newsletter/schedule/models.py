"""The scheduler's tables: the lease that names the one scheduler, and the jobs' recent runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base


class SchedulerLease(Base):
    """Who runs the jobs for this database, until when; renewed while its holder lives."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class JobRun(Base):
    """One run of a scheduled job and how it ended (the newest few per job are kept)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))
    # The run time the trigger asked for; started_at may be later after downtime.
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # "ok", "error", or "missed" (too late for its grace period; skipped)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
