"""GET /healthz: liveness and database reachability."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from newsletter import __version__
from newsletter.db import ping
from newsletter.runtime import Runtime

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        await run_in_threadpool(ping, runtime.engine)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        body = {"status": "error", "database": "unreachable", "version": __version__}
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
    body = {"status": "ok", "database": "ok", "version": __version__}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
