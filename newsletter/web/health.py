"""GET /healthz: liveness, database reachability, and which process runs the scheduler."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from newsletter import __version__
from newsletter.db import ping
from newsletter.runtime import Runtime
from newsletter.schedule import lease

router = APIRouter()
log = logging.getLogger(__name__)


def _check(runtime: Runtime) -> lease.LeaseInfo | None:
    ping(runtime.engine)
    with runtime.sessions() as session:
        return lease.current(session)


def _scheduler(request: Request, runtime: Runtime, info: lease.LeaseInfo | None) -> dict[str, Any]:
    """The lease as every web process sees it, and this process's part in it."""
    service = getattr(request.app.state, "scheduler", None)
    live = info is not None and info.held_at(runtime.clock.now())
    here = "web-only" if service is None else ("leading" if service.leading else "standby")
    return {
        "holder": info.holder if live and info else None,
        "until": info.expires_at.isoformat() if live and info else None,
        "running": live,
        "this_process": here,
    }


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        info = await run_in_threadpool(_check, runtime)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        down = {"status": "error", "database": "unreachable", "version": __version__}
        return JSONResponse(down, status_code=503, headers={"Cache-Control": "no-store"})
    body: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "version": __version__,
        "scheduler": _scheduler(request, runtime, info),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
