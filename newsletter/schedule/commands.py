"""`newsletter serve` (web app and scheduler in one process) and `newsletter schedule`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newsletter.cli_state import runtime_from
from newsletter.config import trusted_proxies
from newsletter.errors import ConfigError
from newsletter.schedule.listing import job_statuses, lease_holder

# Wide enough for a job's last outcome when printed to a log or a pipe.
out = Console(width=200) if not Console().is_terminal else Console()


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    web_only: Annotated[
        bool,
        typer.Option(
            "--web-only", help="Serve the web app without the scheduler (extra web processes)."
        ),
    ] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="A line per request (leave it to the proxy in front, if it logs them).",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies whose X-Forwarded-For is believed: addresses or networks, comma-"
            "separated, or '*'. Default: [web] forwarded_allow_ips (127.0.0.1).",
        ),
    ] = None,
) -> None:
    """Serve the web app and run the scheduler (the one holding the database's lease runs jobs)."""
    from newsletter.serve import serve

    if forwarded_allow_ips is not None:
        try:
            forwarded_allow_ips = trusted_proxies(forwarded_allow_ips)
        except ValueError as exc:
            raise ConfigError(f"--forwarded-allow-ips: {exc}") from None
    runtime = runtime_from(ctx, migrated=True)
    serve(
        runtime,
        host,
        port,
        web_only=web_only,
        access_log=access_log,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def schedule_command(ctx: typer.Context) -> None:
    """List every scheduled job: its next run (local time), its last run and how it ended."""
    runtime = runtime_from(ctx, migrated=True)
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
    out.print(table)
    holder = lease_holder(runtime)
    if holder is None or not holder.held_at(now):
        out.print("scheduler: not running (no live lease); `newsletter serve` starts it")
    else:
        out.print(f"scheduler: {holder.holder}, lease until {when(holder.expires_at)}")
