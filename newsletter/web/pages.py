"""The public home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from newsletter.models import Topic
from newsletter.runtime import Runtime

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    templates: Jinja2Templates = request.app.state.templates
    with runtime.sessions() as session:
        topics = list(session.scalars(select(Topic).order_by(Topic.name)))
    response: HTMLResponse = templates.TemplateResponse(
        request, "web/home.html", {"site": runtime.settings.site, "topics": topics}
    )
    return response
