"""GET /metrics: Prometheus' text format, for operators holding [web] metrics_token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.concurrency import run_in_threadpool

from newsletter.web.bearer import carries
from newsletter.web.state import runtime_of

router = APIRouter()


def _registry(request: Request) -> CollectorRegistry:
    registry: CollectorRegistry = request.app.state.metrics
    return registry


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    token = runtime_of(request).settings.web.metrics_token
    if token is None:
        raise HTTPException(404)
    if not carries(request, token):
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
    # The database's figures are queries: off the event loop.
    body = await run_in_threadpool(generate_latest, _registry(request))
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
