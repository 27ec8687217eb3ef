"""POST /webhooks/{provider}: relay services report bounces, complaints and unsubscribes."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from newsletter.errors import WebhookInvalid, WebhookRefused
from newsletter.pipeline.webhooks import Webhooks, configured
from newsletter.runtime import Runtime

router = APIRouter()


@router.post("/webhooks/{provider}")
async def relay_webhook(provider: str, request: Request) -> JSONResponse:
    """An unconfigured provider is 404 before a byte of the body is read."""
    runtime: Runtime = request.app.state.runtime
    if not configured(runtime.settings, provider):
        raise HTTPException(404, "no webhook is configured here")
    body = await request.body()
    webhooks: Webhooks = request.app.state.webhooks
    try:
        receipt = await run_in_threadpool(webhooks.receive, provider, request.headers, body)
    except WebhookRefused as exc:
        raise HTTPException(403, str(exc)) from None
    except WebhookInvalid as exc:
        raise HTTPException(400, str(exc)) from None
    return JSONResponse(asdict(receipt))
