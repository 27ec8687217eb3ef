"""GET /healthz: status for anyone; the lease holder and this process's role for operators only."""

from __future__ import annotations

import hmac
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
NO_STORE = {"Cache-Control": "no-store"}


def _check(runtime: Runtime) -> lease.LeaseInfo | None:
    ping(runtime.engine)
    with runtime.sessions() as session:
        return lease.current(session)


def operator(request: Request, runtime: Runtime) -> bool:
    """Whether the request carries [web] health_token as its bearer token (never, when unset).

    A token rather than an editor's session: monitoring sends a header, not a cookie, and the
    session cookie is only ever sent to /admin.
    """
    token = runtime.settings.web.health_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if token is None or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())


def _details(request: Request, info: lease.LeaseInfo | None, live: bool) -> dict[str, Any]:
    """The lease as every web process sees it, and this process's part in it."""
    service = getattr(request.app.state, "scheduler", None)
    here = "web-only" if service is None else ("leading" if service.leading else "standby")
    return {
        "holder": info.holder if live and info else None,
        "until": info.expires_at.isoformat() if live and info else None,
        "this_process": here,
    }


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    detailed = operator(request, runtime)
    try:
        info = await run_in_threadpool(_check, runtime)
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        down: dict[str, Any] = {"status": "error", "database": "unreachable"}
        if detailed:
            down["version"] = __version__
        return JSONResponse(down, status_code=503, headers=NO_STORE)
    live = info is not None and info.held_at(runtime.clock.now())
    # The host name and process id in the lease holder are for operators, not the public.
    scheduler: dict[str, Any] = {"running": live}
    body: dict[str, Any] = {"status": "ok", "database": "ok", "scheduler": scheduler}
    if detailed:
        body["version"] = __version__
        scheduler.update(_details(request, info, live))
    return JSONResponse(body, headers=NO_STORE)
