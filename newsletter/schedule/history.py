"""The jobs' recent runs: recorded by the scheduler, read by `newsletter schedule`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.schedule.models import JobRun

KEEP_PER_JOB = 100


def record_run(
    sessions: sessionmaker[Session],
    *,
    job_id: str,
    holder: str,
    scheduled_for: datetime | None,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    detail: str,
) -> None:
    """Add a run, keeping only the newest KEEP_PER_JOB of its job."""
    with sessions.begin() as session:
        session.add(
            JobRun(
                job_id=job_id,
                holder=holder,
                scheduled_for=scheduled_for,
                started_at=started_at,
                finished_at=finished_at,
                outcome=outcome,
                detail=detail[:2000],
            )
        )
        session.flush()
        oldest_kept = session.scalar(
            select(JobRun.id)
            .where(JobRun.job_id == job_id)
            .order_by(JobRun.id.desc())
            .offset(KEEP_PER_JOB - 1)
            .limit(1)
        )
        if oldest_kept is not None:
            session.execute(delete(JobRun).where(JobRun.job_id == job_id, JobRun.id < oldest_kept))


def last_runs(session: Session) -> dict[str, JobRun]:
    """The newest run of each job."""
    newest = select(JobRun.job_id, JobRun.id).order_by(JobRun.job_id, JobRun.id.desc())
    latest: dict[str, int] = {}
    for job_id, run_id in session.execute(newest):
        latest.setdefault(job_id, run_id)
    if not latest:
        return {}
    runs = session.scalars(select(JobRun).where(JobRun.id.in_(latest.values())))
    return {run.job_id: run for run in runs}


def runs_of(session: Session, job_id: str) -> list[JobRun]:
    return list(session.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id)))
