"""Outbound webhooks for publishers: add an endpoint (its secret shown once), its delivery log,
turn it back on after a fix, remove it."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from newsletter.editors.models import Editor
from newsletter.editors.notify import local
from newsletter.web.admin.auth import Csrf, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of
from newsletter.webhooks.endpoints import EndpointError, add_endpoint, enable, log_of
from newsletter.webhooks.events import EVENTS
from newsletter.webhooks.models import Endpoint

router = APIRouter()
log = logging.getLogger(__name__)


def _page(
    request: Request,
    publisher: Editor,
    *,
    secret: str | None = None,
    error: str | None = None,
    typed: str = "",
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        endpoints = session.scalars(select(Endpoint).order_by(Endpoint.id)).all()
        rows = [
            {
                "id": endpoint.id,
                "url": endpoint.url,
                "events": endpoint.events,
                "failures": endpoint.failures_in_row,
                "disabled": local(endpoint.disabled_at, runtime.settings)
                if endpoint.disabled_at
                else None,
                "reason": endpoint.disabled_reason,
            }
            for endpoint in endpoints
        ]
    return render(
        request,
        "web/admin/webhooks.html",
        {
            "editor": publisher,
            "rows": rows,
            "events": EVENTS,
            "secret": secret,
            "error": error,
            "typed": typed,
        },
        status,
    )


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, publisher: PublisherDep) -> Response:
    return _page(request, publisher)


@router.post("/webhooks", dependencies=[Csrf])
def add(
    request: Request,
    publisher: PublisherDep,
    url: Annotated[str, Form(max_length=2000)] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The secret is on this answer only; the receiver keeps it to check each signature."""
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            endpoint, secret = add_endpoint(
                session,
                url,
                (events or [])[:20],
                publisher.email,
                runtime.clock.now(),
                runtime.sealer,
            )
            log.info("%s added webhook endpoint %d", publisher.email, endpoint.id)
    except EndpointError as exc:
        return _page(request, publisher, error=str(exc), typed=url, status=400)
    answer = _page(request, publisher, secret=secret)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.get("/webhooks/{endpoint_id}", response_class=HTMLResponse)
def delivery_log(request: Request, endpoint_id: RowId, publisher: PublisherDep) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is None:
            raise HTTPException(404, "There is no such webhook endpoint.")
        rows = [
            {
                "type": attempt.type,
                "made": local(attempt.created_at, runtime.settings),
                "outcome": attempt.outcome.value,
                "attempts": attempt.attempts,
                "status": attempt.last_status,
                "error": attempt.last_error,
                "next": local(attempt.next_attempt_at, runtime.settings)
                if attempt.outcome == "pending"
                else None,
            }
            for attempt in log_of(session, endpoint_id)
        ]
        url = endpoint.url
    return render(
        request,
        "web/admin/webhook_log.html",
        {"editor": publisher, "url": url, "rows": rows},
    )


@router.post("/webhooks/{endpoint_id}/enable", dependencies=[Csrf])
def turn_on(request: Request, endpoint_id: RowId, publisher: PublisherDep) -> Response:
    with runtime_of(request).sessions.begin() as session:
        if enable(session, endpoint_id):
            log.info("%s enabled webhook endpoint %d again", publisher.email, endpoint_id)
    return RedirectResponse("/admin/webhooks", status_code=303)


@router.post("/webhooks/{endpoint_id}/remove", dependencies=[Csrf])
def remove(request: Request, endpoint_id: RowId, publisher: PublisherDep) -> Response:
    with runtime_of(request).sessions.begin() as session:
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is not None:
            session.delete(endpoint)
            log.info("%s removed webhook endpoint %d", publisher.email, endpoint_id)
    return RedirectResponse("/admin/webhooks", status_code=303)
