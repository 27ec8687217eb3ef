"""`newsletter serve`: the web app and the scheduler in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from newsletter.cli.state import runtime_from
from newsletter.config import trusted_proxies
from newsletter.errors import ConfigError


def serve(
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
    if forwarded_allow_ips is not None:
        try:
            forwarded_allow_ips = trusted_proxies(forwarded_allow_ips)
        except ValueError as exc:
            raise ConfigError(f"--forwarded-allow-ips: {exc}") from None
    runtime = runtime_from(ctx)
    # Late: --help, a bad option or an old schema answer without loading the web app and granian.
    from newsletter.serve import serve as run_process

    run_process(
        runtime,
        host,
        port,
        web_only=web_only,
        access_log=access_log,
        forwarded_allow_ips=forwarded_allow_ips,
    )
