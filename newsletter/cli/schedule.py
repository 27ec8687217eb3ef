"""`newsletter schedule`: every scheduled job with its next and last run, and the lease."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from newsletter.cli.output import wide
from newsletter.cli.state import runtime_from
from newsletter.schedule.listing import job_statuses, lease_holder


def schedule(ctx: typer.Context) -> None:
    """List every scheduled job: its next run (local time), its last run and how it ended."""
    runtime = runtime_from(ctx)
    zone = runtime.settings.zone
    now = runtime.clock.now()

    def when(at: datetime | None) -> str:
        return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z") if at else "-"

    table = Table("job", "when", "next run", "last run", "ended", title=f"times in {zone.key}")
    for status in job_statuses(runtime):
        next_run = when(status.next_run) if status.next_run else "paused"
        if not status.stored:
            next_run += " (once serve starts)"
        last = status.last
        table.add_row(
            status.id,
            status.when,
            next_run,
            when(last.started_at) if last else "never",
            f"{last.outcome}: {last.detail}" if last else "-",
        )
    wide.print(table)
    holder = lease_holder(runtime)
    if holder is None or not holder.held_at(now):
        wide.print("scheduler: not running (no live lease); `newsletter serve` starts it")
    else:
        wide.print(f"scheduler: {holder.holder}, lease until {when(holder.expires_at)}")
