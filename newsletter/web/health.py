"""GET /healthz: status for anyone; the lease holder and this process's role for operators only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from newsletter import __version__
from newsletter.db import ping
from newsletter.runtime import Runtime
from newsletter.web.bearer import carries

router = APIRouter()
log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}


class SchedulerStatus(Protocol):
    """The scheduler as /healthz tells it: whether anyone holds the lease, and our part."""

    @property
    def running(self) -> bool: ...
    @property
    def holder(self) -> str | None: ...
    @property
    def until(self) -> datetime | None: ...
    @property
    def role(self) -> str: ...


# Reads the status (blocking: it may ask the database); newsletter/serve.py sets one on
# app.state.scheduler_status.
StatusReader = Callable[[], SchedulerStatus]


@dataclass(frozen=True)
class NoScheduler:
    """An app served without newsletter/serve.py's assembly: no scheduler it knows of."""

    running: bool = False
    holder: str | None = None
    until: datetime | None = None
    role: str = "web-only"


def _check(runtime: Runtime, read: StatusReader | None) -> SchedulerStatus:
    ping(runtime.engine)
    return NoScheduler() if read is None else read()


def operator(request: Request, runtime: Runtime) -> bool:
    """Whether the request carries [web] health_token as its bearer token (never, when unset)."""
    return carries(request, runtime.settings.web.health_token)


def _details(status: SchedulerStatus) -> dict[str, Any]:
    """The lease as every web process sees it, and this process's part in it."""
    return {
        "holder": status.holder,
        "until": status.until.isoformat() if status.until else None,
        "this_process": status.role,
    }


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    read: StatusReader | None = getattr(request.app.state, "scheduler_status", None)
    detailed = operator(request, runtime)
    try:
        status = await run_in_threadpool(_check, runtime, read)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        down: dict[str, Any] = {"status": "error", "database": "unreachable"}
        if detailed:
            down["version"] = __version__
        return JSONResponse(down, status_code=503, headers=NO_STORE)
    # The host name and process id in the lease holder are for operators, not the public.
    scheduler: dict[str, Any] = {"running": status.running}
    body: dict[str, Any] = {"status": "ok", "database": "ok", "scheduler": scheduler}
    if detailed:
        body["version"] = __version__
        scheduler.update(_details(status))
    return JSONResponse(body, headers=NO_STORE)
