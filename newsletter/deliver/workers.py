"""`newsletter worker` (a Celery worker for delivery batches) and `newsletter digest pause ID`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from newsletter.cli_state import runtime_from
from newsletter.deliver.state import pause
from newsletter.errors import ConfigError, SendError
from newsletter.runtime import Runtime
from newsletter.schema_version import require_current

out = Console()


def worker_command(
    runtime: Runtime, concurrency: int | None, pool: str, loglevel: str = "info"
) -> None:
    """Run a Celery worker that sends delivery batches until it is stopped (SIGTERM: warm)."""
    # Celery, and the pipeline the tasks run, load only in a worker.
    from newsletter.deliver.tasks import make_app, shared_relays
    from newsletter.pipeline.lanes import send_lane

    settings = runtime.settings
    if not settings.broker_url:
        raise ConfigError(
            "newsletter worker needs NEWSLETTER_BROKER_URL, e.g. redis://127.0.0.1:6379/0"
        )
    require_current(runtime.engine)
    shared_relays(settings)  # a limit that could not hold across workers is refused up front
    runtime.close()  # each worker process opens its own connections
    argv = [
        "worker",
        f"--loglevel={loglevel}",
        f"--pool={pool}",
        f"--queues={settings.delivery.redis_prefix}",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    make_app(settings, send_lane).worker_main(argv)


def pause_command(runtime: Runtime, issue_id: int) -> None:
    require_current(runtime.engine)
    reason = f"paused from the command line; run `newsletter digest send {issue_id}` to resume"
    if not pause(runtime, issue_id, reason):
        raise SendError(f"issue {issue_id} is not being sent; only a sending issue can be paused")
    out.print(
        f"issue {issue_id}: paused; every sender stops after the batch in hand",
        markup=False,
        highlight=False,
    )


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Batches at once in this worker (default: the number of CPUs)."),
    ] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, threads or solo.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "info",
) -> None:
    """Send delivery batches queued by `digest send` (needs NEWSLETTER_BROKER_URL)."""
    worker_command(runtime_from(ctx), concurrency, pool, loglevel)


def pause_issue(
    ctx: typer.Context,
    issue_id: Annotated[int, typer.Argument(metavar="ID", help="The issue to pause.")],
) -> None:
    """Pause an issue being sent (in this process or by workers); `digest send` resumes it."""
    pause_command(runtime_from(ctx), issue_id)
