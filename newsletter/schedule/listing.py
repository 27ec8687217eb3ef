"""What `newsletter schedule` shows: every job, its next run in local time, its last run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import inspect, text

from newsletter.runtime import Runtime
from newsletter.schedule import lease
from newsletter.schedule.history import last_runs
from newsletter.schedule.models import JobRun
from newsletter.schedule.service import JOB_TABLE
from newsletter.schedule.triggers import job_specs


@dataclass(frozen=True)
class JobStatus:
    id: str
    what: str
    when: str
    next_run: datetime | None
    stored: bool  # False: not in the job store yet; next_run is what serve will schedule
    last: JobRun | None


def stored_next_runs(runtime: Runtime) -> dict[str, datetime | None]:
    """Next run times straight from APScheduler's table (None: paused), without unpickling."""
    if not inspect(runtime.engine).has_table(JOB_TABLE):
        return {}
    with runtime.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, next_run_time FROM {JOB_TABLE}"))  # noqa: S608
        return {
            job_id: datetime.fromtimestamp(stamp, UTC) if stamp is not None else None
            for job_id, stamp in rows
        }


def job_statuses(runtime: Runtime) -> list[JobStatus]:
    now = runtime.clock.now()
    stored = stored_next_runs(runtime)
    with runtime.sessions() as session:
        runs = last_runs(session)
    statuses = []
    for spec in job_specs(runtime.settings):
        if spec.id in stored:
            next_run, known = stored[spec.id], True
        else:
            next_run, known = spec.trigger.get_next_fire_time(None, now), False
        statuses.append(
            JobStatus(spec.id, spec.what, spec.when, next_run, known, runs.get(spec.id))
        )
    return statuses


def lease_holder(runtime: Runtime) -> lease.LeaseInfo | None:
    with runtime.sessions() as session:
        return lease.current(session)
