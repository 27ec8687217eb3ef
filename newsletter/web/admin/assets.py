"""The admin's own stylesheet and script, served from the template folders (sites can restyle)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import TemplateNotFound
from starlette.exceptions import HTTPException

router = APIRouter()
ASSETS = {"admin.css": "text/css; charset=utf-8", "admin.js": "text/javascript; charset=utf-8"}


@router.get("/static/{name}", include_in_schema=False)
def asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, "Not Found")
    try:
        source, _, _ = request.app.state.templates.env.loader.get_source(
            request.app.state.templates.env, f"web/admin/{name}"
        )
    except TemplateNotFound:
        raise HTTPException(404, "Not Found") from None
    return Response(
        source, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=300"}
    )
