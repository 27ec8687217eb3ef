"""The `newsletter serve` process assembled: web app, scheduler and uvicorn; SIGTERM exits 0."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from newsletter.runtime import Runtime
from newsletter.schedule import lease
from newsletter.schedule.service import SchedulerService
from newsletter.web.accesslog import logging_config
from newsletter.web.app import create_app
from newsletter.web.clicks import ClickFastPath, Proxies
from newsletter.web.health import StatusReader

log = logging.getLogger(__name__)


def with_scheduler(app: FastAPI, service: SchedulerService) -> None:
    """Start the scheduler when the app starts; stop it (waiting for a safe point) on shutdown."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            await run_in_threadpool(service.start)
            try:
                yield state
            finally:
                await run_in_threadpool(service.stop)

    app.router.lifespan_context = lifespan


@dataclass(frozen=True)
class LeaseStatus:
    """What /healthz reports (newsletter.web.health.SchedulerStatus), read from the lease."""

    running: bool
    holder: str | None
    until: datetime | None
    role: str


def lease_status(runtime: Runtime, service: SchedulerService | None) -> StatusReader:
    """The lease as every process sees it, and this process's part: leading, standby, web-only."""

    def read() -> LeaseStatus:
        with runtime.sessions() as session:
            info = lease.current(session)
        role = "web-only" if service is None else ("leading" if service.leading else "standby")
        if info is None or not info.held_at(runtime.clock.now()):
            return LeaseStatus(running=False, holder=None, until=None, role=role)
        return LeaseStatus(running=True, holder=info.holder, until=info.expires_at, role=role)

    return read


def build_app(runtime: Runtime, service: SchedulerService | None) -> FastAPI:
    """The web app, running `service` (none: --web-only) for as long as it runs."""
    app = create_app(runtime)
    app.state.scheduler_status = lease_status(runtime, service)
    if service is not None:
        with_scheduler(app, service)
    return app


def serve(
    runtime: Runtime,
    host: str,
    port: int,
    *,
    web_only: bool = False,
    access_log: bool = True,
    forwarded_allow_ips: str | None = None,
) -> None:
    app = build_app(runtime, None if web_only else SchedulerService(runtime))
    # X-Forwarded-For/-Proto are believed from these proxies only (uvicorn's own default
    # otherwise comes from the FORWARDED_ALLOW_IPS variable, which this setting replaces).
    allowed = forwarded_allow_ips or runtime.settings.web.forwarded_allow_ips
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=allowed)
    config = uvicorn.Config(
        # Clicks are answered before every other layer, uvicorn's proxy headers included: they
        # are the busiest requests, and parsing each reader's forwarded address cost a quarter
        # of a click. A click only needs to tell clients apart (web/clicks.py, Proxies).
        ClickFastPath(app, owner=app, proxies=Proxies(allowed)),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        # Tokens in confirm/unsubscribe/preferences links never reach the access log.
        log_config=logging_config(),
        proxy_headers=False,  # applied above, after the clicks
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again for
    # the handler it found; this one absorbs it, so a clean stop exits 0, not by the signal.
    stopped: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: stopped.append(signum))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    # Everything loaded so far (the app, its libraries) lives as long as the process: kept out
    # of the collector's full passes, which a burst of clicks (many short-lived objects, the
    # queued ones held a few seconds) would otherwise make walk it all again and again.
    gc.freeze()
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopped:
        log.info("stopped by signal %s", stopped[0])
