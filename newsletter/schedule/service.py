"""One `newsletter serve`'s scheduler: APScheduler on the database, run by the lease holder only.

start ─▶ paused scheduler ─▶ lease tick (every lease_seconds / 3)
                               ├─ taken:  bind the jobs, sync them with the settings, resume
                               └─ lost:   pause (another process runs the jobs now)
stop  ─▶ no new jobs; a running send stops at its next safe point; lease released
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.exc import SQLAlchemyError

from newsletter.errors import NewsletterError
from newsletter.mail.transport import Transport
from newsletter.runtime import Runtime
from newsletter.schedule import jobs, lease
from newsletter.schedule.history import record_run
from newsletter.schedule.triggers import JobSpec, job_specs

log = logging.getLogger(__name__)
JOB_TABLE = "apscheduler_jobs"
STORE = "default"


class SchedulerService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        transport_factory: Callable[[], Transport] | None = None,
        holder: str | None = None,
        workers: int = 4,
    ) -> None:
        self.runtime = runtime
        self.holder = holder or lease.new_holder_id()
        self.stop_jobs = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_lock = threading.Lock()
        self._starts: dict[tuple[str, datetime], datetime] = {}
        self.leading = False
        self.context = jobs.JobContext(
            runtime,
            transport_factory or runtime.transport,
            self.stop_jobs,
        )
        self.scheduler = BackgroundScheduler(
            jobstores={STORE: SQLAlchemyJobStore(engine=runtime.engine, tablename=JOB_TABLE)},
            executors={"default": ThreadPoolExecutor(workers)},
            timezone=runtime.settings.zone,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_listener(
            self._on_event,
            EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
        )

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.runtime.settings.schedule.lease_seconds)

    # -- life cycle -------------------------------------------------------------------------

    def start(self, *, renew: bool = True) -> None:
        """Start paused; run jobs only while holding the lease (renew=False: ticks by hand)."""
        self.scheduler.start(paused=True)
        self.tick()
        if renew:
            self._thread = threading.Thread(
                target=self._renew_loop, name="scheduler-lease", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Take no new jobs, let a running one reach a safe point, hand the lease back."""
        self._closing.set()
        self.stop_jobs.set()
        if self._thread is not None:
            self._thread.join()
        with self._tick_lock:
            if self.scheduler.running:
                self.scheduler.pause()
                # APScheduler's loop looks at due jobs once more after shutdown; a job due then
                # would be moved to its next time without running. Without its store the loop
                # sees no jobs, and the missed run stays stored for the next start.
                self.scheduler.remove_jobstore(STORE, shutdown=False)
                # Waits for running jobs; send_issue sees stop_jobs and returns between batches.
                self.scheduler.shutdown(wait=True)
            jobs.unbind(self.context)
            if self.leading:
                self.leading = False
                try:
                    lease.release(self.runtime.sessions, self.holder, self.runtime.clock.now())
                except SQLAlchemyError as exc:
                    log.warning("could not release the scheduler lease: %s", exc)
        log.info("scheduler %s stopped", self.holder)

    def _renew_loop(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._closing.wait(interval):
            self.tick()

    def tick(self) -> bool:
        """Take or renew the lease, and lead or follow accordingly; True while leading."""
        with self._tick_lock:
            if self._closing.is_set():
                return self.leading
            try:
                held = lease.take(
                    self.runtime.sessions, self.holder, self.runtime.clock.now(), self.ttl
                )
            except SQLAlchemyError as exc:
                # Unsure whether the lease is still ours: stop running jobs until it is.
                log.warning("scheduler lease: database error: %s", exc)
                held = False
            if held and not self.leading:
                self._lead()
            elif not held and self.leading:
                self._follow()
            return self.leading

    def _lead(self) -> None:
        jobs.bind(self.context)
        self.sync()
        self.scheduler.resume()
        self.leading = True
        log.info("scheduler %s holds the lease and runs the jobs", self.holder)

    def _follow(self) -> None:
        self.scheduler.pause()
        self.leading = False
        log.warning("scheduler %s lost the lease; another process runs the jobs", self.holder)

    # -- jobs -------------------------------------------------------------------------------

    def sync(self) -> None:
        """Make the stored jobs match the settings, keeping the run times of unchanged ones.

        An unchanged job keeps its stored next run time, even one in the past: that is how a
        build or send missed during downtime runs (once) after a restart.
        """
        wanted = {spec.id: spec for spec in job_specs(self.runtime.settings)}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                log.info("removing job %s (no longer in the settings)", job.id)
                self.scheduler.remove_job(job.id)
        for spec in wanted.values():
            job = self.scheduler.get_job(spec.id)
            if job is None:
                self.scheduler.add_job(**spec.options())
            elif not _same(job.trigger, spec.trigger) or _options_differ(job, spec):
                log.info("job %s changed in the settings; rescheduled", spec.id)
                options = spec.options()
                del options["id"], options["trigger"]
                self.scheduler.modify_job(spec.id, **options)
                self.scheduler.reschedule_job(spec.id, trigger=spec.trigger)

    def _on_event(self, event: JobEvent) -> None:
        now = self.runtime.clock.now()
        try:
            if isinstance(event, JobSubmissionEvent):
                for when in event.scheduled_run_times:
                    self._starts[(event.job_id, when)] = now
                return
            assert isinstance(event, JobExecutionEvent)
            started = self._starts.pop((event.job_id, event.scheduled_run_time), now)
            if event.code == EVENT_JOB_MISSED:
                late = now - event.scheduled_run_time
                outcome, detail = "missed", f"skipped: {_minutes(late)} late, past its grace period"
                started = now
            elif event.exception is not None:
                outcome, detail = "error", _describe(event.exception)
            else:
                outcome, detail = "ok", str(event.retval or "")
            record_run(
                self.runtime.sessions,
                job_id=event.job_id,
                holder=self.holder,
                scheduled_for=event.scheduled_run_time,
                started_at=started,
                finished_at=now,
                outcome=outcome,
                detail=detail,
            )
        except Exception:  # a listener that raises would be logged and lost by APScheduler
            log.exception("could not record a run of job %s", event.job_id)


def _same(a: BaseTrigger, b: BaseTrigger) -> bool:
    # str() names the schedule without an interval trigger's ever-changing start date.
    return (type(a), str(a), str(getattr(a, "timezone", ""))) == (
        type(b),
        str(b),
        str(getattr(b, "timezone", "")),
    )


def _options_differ(job: object, spec: JobSpec) -> bool:
    return (
        getattr(job, "func_ref", None) != spec.func
        or getattr(job, "misfire_grace_time", None) != int(spec.grace.total_seconds())
        or getattr(job, "name", None) != spec.what
    )


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, NewsletterError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
