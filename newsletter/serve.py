"""The `newsletter serve` process assembled: web app, scheduler and granian; SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import uvloop
from fastapi import FastAPI
from granian.constants import HTTPModes, Interfaces
from granian.errors import FatalError
from granian.http import HTTP1Settings
from granian.server.embed import Server
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from newsletter.errors import NewsletterError
from newsletter.runtime import Runtime
from newsletter.schedule import lease
from newsletter.schedule.service import SchedulerService
from newsletter.web.accesslog import AccessLog, access_logger
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


# Hostile clients (the proxy in front may not bound them): a request's headers must arrive
# within 10 s of its first byte or of the last answer on a kept-alive connection (else it is
# closed), and fit the 64 KiB read buffer (the parser lets a head grow to about twice that) in
# at most 100 headers (else 431). Bodies are the app's to refuse unread (web/limits.py).
HTTP1 = HTTP1Settings(header_read_timeout=10_000, keep_alive=True, max_buffer_size=64 * 1024)
# Requests handled at once; further connections wait in the listen backlog.
BACKPRESSURE = 256
BACKLOG = 1024


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
    # X-Forwarded-For/-Proto are believed from these proxies only: uvicorn's middleware, a
    # plain ASGI layer, with the same rules the uvicorn server applied.
    allowed = forwarded_allow_ips or runtime.settings.web.forwarded_allow_ips
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=allowed)
    # Clicks are answered before every other layer, the proxy headers included: they are the
    # busiest requests, and parsing each reader's forwarded address cost a quarter of a click.
    # A click only needs to tell clients apart (web/clicks.py, Proxies).
    target: ASGIApp = ClickFastPath(app, owner=app, proxies=Proxies(allowed))
    if access_log:
        # Tokens in confirm/unsubscribe/preferences/click links never reach the access log.
        target = AccessLog(target, access_logger())
    # granian (a Rust HTTP server) embedded: this process, this event loop, one worker; the
    # lifespan (scheduler, click writer) starts before the first request and ends after the last.
    server = Server(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=False,
        backlog=BACKLOG,
        backpressure=BACKPRESSURE,
        http1_settings=HTTP1,
        log_access=False,  # AccessLog above: granian's would show the proxy, not the client
    )
    # Everything loaded so far (the app, its libraries) lives as long as the process: kept out
    # of the collector's full passes, which a burst of clicks (many short-lived objects, the
    # queued ones held a few seconds) would otherwise make walk it all again and again.
    gc.freeze()
    stopped = uvloop.run(_run(server))
    if stopped is not None:
        log.info("stopped by signal %s", stopped)


async def _run(server: Server) -> int | None:
    """Serve until SIGTERM/SIGINT (returned), which stop it gracefully: requests in flight are
    answered, then the lifespan ends (the scheduler at a safe point)."""
    loop = asyncio.get_running_loop()
    stopped: list[int] = []

    def stop(signum: int) -> None:
        stopped.append(signum)
        server.stop()  # type: ignore[no-untyped-call]

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    try:
        await server.serve()
    except FatalError:  # the lifespan failed to start; granian has logged why
        raise NewsletterError("the web app did not start (see the log above)") from None
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    if server.interrupt_children:  # the worker ended on its own
        raise NewsletterError("the web server stopped unexpectedly (see the log above)")
    return stopped[0] if stopped else None
