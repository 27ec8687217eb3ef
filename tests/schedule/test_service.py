"""The scheduler on a real database: the lease, two schedulers, restarts after downtime."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.clock import FixedClock, SystemClock
from newsletter.config import Settings
from newsletter.mail.transport import OutboxTransport
from newsletter.models import Issue
from newsletter.runtime import Runtime
from newsletter.schedule import lease
from newsletter.schedule.history import runs_of
from newsletter.schedule.models import JobRun
from newsletter.schedule.service import SchedulerService
from tests.schedule.conftest import fill

TTL = timedelta(seconds=30)


def _wait(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_the_lease_is_taken_renewed_refused_and_handed_over(runtime: Runtime) -> None:
    sessions = runtime.sessions
    at = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    assert lease.take(sessions, "a", at, TTL)
    assert not lease.take(sessions, "b", at + timedelta(seconds=10), TTL)
    assert lease.take(sessions, "a", at + timedelta(seconds=20), TTL)  # renewed until +50 s
    assert not lease.take(sessions, "b", at + timedelta(seconds=45), TTL)
    with sessions() as session:
        info = lease.current(session)
    assert info is not None
    assert (info.holder, info.acquired_at, info.expires_at) == ("a", at, at + timedelta(seconds=50))
    # a stopped renewing: b takes over once the lease has run out, and a cannot renew it.
    assert lease.take(sessions, "b", at + timedelta(seconds=50), TTL)
    assert not lease.take(sessions, "a", at + timedelta(seconds=51), TTL)
    # A clean stop hands it over at once.
    lease.release(sessions, "b", at + timedelta(seconds=60))
    assert lease.take(sessions, "a", at + timedelta(seconds=60), TTL)


@pytest.fixture
def services(settings: Settings) -> Iterator[Callable[..., SchedulerService]]:
    started: list[SchedulerService] = []

    def start(clock: FixedClock | SystemClock | None = None) -> SchedulerService:
        runtime = Runtime.build(settings, clock)
        service = SchedulerService(
            runtime, transport_factory=lambda: OutboxTransport(settings.outbox_dir)
        )
        service.start(renew=False)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
        service.runtime.close()


def _runs(runtime: Runtime, job_id: str) -> list[JobRun]:
    with runtime.sessions() as session:
        return runs_of(session, job_id)


def test_two_schedulers_on_one_database_run_each_job_once_and_hand_over(
    runtime: Runtime, settings: Settings, services: Callable[..., SchedulerService]
) -> None:
    settings.schedule.send_poll_seconds = 0.2
    clock = FixedClock(datetime.now(UTC))
    first = services(clock)
    second = services(clock)
    assert first.leading
    assert not second.leading
    _wait(lambda: len(_runs(runtime, "send")) >= 3)
    assert {run.holder for run in _runs(runtime, "send")} == {first.holder}
    assert {run.detail for run in _runs(runtime, "send")} == {"nothing due"}

    # first hangs (stops renewing); once its lease runs out, second takes over.
    clock.advance(timedelta(seconds=settings.schedule.lease_seconds - 1))
    assert not second.tick()
    clock.advance(timedelta(seconds=2))
    assert second.tick()
    assert not first.tick()  # it comes back, finds the lease taken, and stands by
    time.sleep(0.5)  # a run that had already started may still finish
    before = len([r for r in _runs(runtime, "send") if r.holder == first.holder])
    _wait(lambda: len([r for r in _runs(runtime, "send") if r.holder == second.holder]) >= 3)
    after = len([r for r in _runs(runtime, "send") if r.holder == first.holder])
    assert after == before


def _slot_just_passed(settings: Settings) -> tuple[str, datetime]:
    local = (datetime.now(UTC) - timedelta(minutes=2)).astimezone(settings.zone)
    local = local.replace(second=0, microsecond=0)
    return local.strftime("%a %H:%M").lower(), local


def test_a_build_missed_during_downtime_runs_once_after_restart_never_twice(
    runtime: Runtime, settings: Settings, services: Callable[..., SchedulerService]
) -> None:
    slot, this_week = _slot_just_passed(settings)
    settings.digest.build = slot
    settings.schedule.send_poll_seconds = 3600
    fill(runtime, datetime.now(UTC))

    before_downtime = services()
    assert before_downtime.leading
    job = before_downtime.scheduler.get_job("build")
    assert job.next_run_time == this_week + timedelta(days=7)
    # The service went down three weeks ago, just before a build: the store still says so.
    before_downtime.scheduler.modify_job("build", next_run_time=this_week - timedelta(weeks=3))
    before_downtime.stop()

    after_restart = services()
    assert after_restart.leading
    _wait(lambda: len(_runs(runtime, "build")) >= 1)
    time.sleep(1.0)  # room for a second (wrong) run of the three other missed weeks
    [run] = _runs(runtime, "build")
    assert run.outcome == "ok", run.detail
    assert run.scheduled_for == this_week
    assert run.detail.startswith("built draft")
    assert after_restart.scheduler.get_job("build").next_run_time == this_week + timedelta(days=7)
    after_restart.stop()

    again = services()
    assert again.leading
    time.sleep(1.0)
    assert len(_runs(runtime, "build")) == 1
    with runtime.sessions() as session:
        assert len(session.scalars(select(Issue)).all()) == 1


def test_a_build_missed_beyond_its_grace_period_is_recorded_as_missed(
    runtime: Runtime, settings: Settings, services: Callable[..., SchedulerService]
) -> None:
    slot, this_week = _slot_just_passed(settings)
    settings.digest.build = slot
    settings.schedule.send_poll_seconds = 3600
    settings.schedule.build_grace_hours = 0.01  # 36 seconds
    first = services()
    first.scheduler.modify_job("build", next_run_time=this_week)
    first.stop()
    services()
    _wait(lambda: len(_runs(runtime, "build")) >= 1)
    [run] = _runs(runtime, "build")
    assert run.outcome == "missed"
    assert "past its grace period" in run.detail
    with runtime.sessions() as session:
        assert session.scalars(select(Issue)).all() == []


def test_changed_settings_reschedule_the_stored_job(
    runtime: Runtime, settings: Settings, services: Callable[..., SchedulerService]
) -> None:
    first = services()
    first.stop()
    settings.digest.build = "mon 06:15"
    second = services()
    job = second.scheduler.get_job("build")
    assert str(job.trigger) == "cron[day_of_week='mon', hour='6', minute='15']"
    local = job.next_run_time.astimezone(settings.zone)
    assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 6, 15)
