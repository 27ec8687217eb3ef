"""The audience at a glance: totals, changes per week and where readers came from, drawn."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.web.admin.auth import EditorDep
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of
from subscribers.overview import KINDS, overview

router = APIRouter()


@router.get("/audience", response_class=HTMLResponse)
def audience(request: Request, editor: EditorDep) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        seen = overview(session, runtime.clock.now())
    return render(
        request,
        "web/admin/audience.html",
        {"editor": editor, "seen": seen, "kinds": KINDS},
    )
