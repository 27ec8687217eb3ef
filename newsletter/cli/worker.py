"""`newsletter worker`: a Celery worker that sends the delivery batches `digest send` queued."""

from __future__ import annotations

from typing import Annotated

import typer

from newsletter.cli.state import runtime_from, settings_from
from newsletter.errors import ConfigError


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
    if not settings_from(ctx).broker_url:
        raise ConfigError(
            "newsletter worker needs NEWSLETTER_BROKER_URL, e.g. redis://127.0.0.1:6379/0"
        )
    runtime = runtime_from(ctx)
    # Late: Celery (an optional extra) and the send pipeline load only in a worker, not for --help.
    from newsletter.deliver.tasks import make_app, shared_relays
    from newsletter.pipeline.lanes import send_lane

    settings = runtime.settings
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
