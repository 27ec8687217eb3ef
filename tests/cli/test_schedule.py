"""`newsletter schedule`: every job, its next run in local time, its last run and its outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.clock import FixedClock
from newsletter.mail.transport import OutboxTransport
from newsletter.runtime import Runtime
from newsletter.schedule.history import record_run
from newsletter.schedule.service import SchedulerService
from tests.cli.process import run


def _env(runtime: Runtime) -> dict[str, str]:
    return {
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
    }


def test_before_serve_it_shows_what_serve_will_schedule(runtime: Runtime) -> None:
    result = run("schedule", env=_env(runtime))
    assert result.returncode == 0, result.stderr
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert set(lines) >= {"collect", "build", "send"}
    assert "thu 09:00 local" in lines["build"]
    assert "09:00 ES" in lines["build"] or "09:00 ED" in lines["build"]
    assert "(once serve starts)" in lines["build"]
    assert "never" in lines["collect"]
    assert "scheduler: not running" in result.stdout


def test_after_runs_it_shows_stored_times_last_runs_and_the_lease(runtime: Runtime) -> None:
    runtime.clock = FixedClock(datetime.now(UTC))
    service = SchedulerService(
        runtime, transport_factory=lambda: OutboxTransport(runtime.settings.outbox_dir)
    )
    service.start(renew=False)
    next_build = service.scheduler.get_job("build").next_run_time
    record_run(
        runtime.sessions,
        job_id="collect",
        holder=service.holder,
        scheduled_for=datetime(2026, 3, 13, 14, 0, tzinfo=UTC),
        started_at=datetime(2026, 3, 13, 14, 0, 2, tzinfo=UTC),
        finished_at=datetime(2026, 3, 13, 14, 0, 5, tzinfo=UTC),
        outcome="error",
        detail="1 sources: 0 new, 0 updated posts; failed: border-page: timed out",
    )
    try:
        result = run("schedule", env=_env(runtime))
    finally:
        service.stop()
    assert result.returncode == 0, result.stderr
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    # 14:00 UTC on 13 March 2026 is 10:00 in New York, daylight time.
    assert "Fri 2026-03-13 10:00 EDT" in lines["collect"]
    assert "error: 1 sources: 0 new, 0 updated posts; failed: border-page" in lines["collect"]
    assert next_build.astimezone(runtime.settings.zone).strftime("%Y-%m-%d 09:00") in lines["build"]
    assert "(once serve starts)" not in result.stdout
    assert f"scheduler: {service.holder}, lease until" in result.stdout
