"""The FastAPI application: routers, templates, and error pages without tracebacks."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from newsletter import __version__
from newsletter.config.checks import mask_credentials
from newsletter.errors import first_line
from newsletter.pipeline.metrics import registry_for
from newsletter.pipeline.webhooks import Webhooks
from newsletter.runtime import Runtime
from newsletter.templating import environment
from newsletter.web import (
    admin,
    api,
    archive,
    clicks,
    embed,
    feeds,
    health,
    metrics,
    pages,
    push,
    subscription,
    webhooks,
)
from newsletter.web.admin import imports as admin_imports
from newsletter.web.admin.pages import ADMIN_CSP
from newsletter.web.compression import PublicPageCompression
from newsletter.web.layout import layout_globals

log = logging.getLogger(__name__)


def create_app(runtime: Runtime) -> FastAPI:
    limits = runtime.settings.web
    app = FastAPI(
        title=runtime.settings.site.name,
        version=__version__,
        # The API docs are for developers; the public site has no use for them.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Every body (forms above all) is read up to this and answered 413 past it, whether
        # or not it announced its length; /api/posts has a larger cap of its own below.
        max_body_size=limits.max_form_bytes,
    )
    app.state.runtime = runtime
    app.state.templates = Jinja2Templates(env=environment(runtime.settings))
    app.state.templates.env.globals.update(layout_globals(runtime))
    app.state.metrics = registry_for(runtime)
    app.include_router(pages.router)
    app.include_router(clicks.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    # Feeds before the archive: /archive/feed.xml must not be taken for an issue key.
    app.include_router(feeds.router)
    app.include_router(archive.router)
    app.include_router(subscription.router)
    app.include_router(embed.router)
    app.include_router(api.router)
    app.include_router(push.router, max_body_size=limits.max_body_bytes)
    app.state.webhooks = Webhooks(runtime)
    app.include_router(webhooks.router, max_body_size=runtime.settings.webhooks.max_body_bytes)
    # Before the admin's own routes: /admin/subscribers/import is not a subscriber's id.
    app.include_router(admin_imports.router, max_body_size=limits.max_import_bytes)
    app.include_router(admin.router)
    settings = runtime.settings
    # Editors' sessions: a signed cookie sent only to /admin, so public pages (one-click
    # unsubscribe above all) never see it.
    app.add_middleware(
        SessionMiddleware,
        secret_key=runtime.signing_key,
        session_cookie="newsletter_admin",
        max_age=settings.admin.session_hours * 3600,
        path="/admin",
        same_site="lax",
        https_only=settings.site.url.scheme == "https",
    )
    app.add_middleware(PublicPageCompression)
    # Added last, so it is the outermost: a poll of a fresh feed skips every other layer.
    app.add_middleware(pages.PageFastPath)
    app.add_middleware(feeds.FeedFastPath)
    # Outermost of all: a click is the busiest request there is, right after a send.
    app.add_middleware(clicks.ClickFastPath)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = exc.headers or {}
        if exc.status_code == 303 and "Location" in headers:
            return RedirectResponse(headers["Location"], status_code=303)
        response = error_page(request, exc.status_code, str(exc.detail))
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer quotes every submitted value back; this one names fields only.
        return error_page(request, 422, invalid_fields(exc))

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        # A locked SQLite file or an unreachable PostgreSQL passes: ask the client to come back
        # rather than call it our bug. The engine hides parameters, so the line names no one.
        reason = mask_credentials(first_line(exc.orig))
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, reason)
        response = error_page(
            request, 503, "The service is busy. Please try again in a few seconds."
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "Something went wrong on our side. Please try again later.")

    return app


def invalid_fields(exc: RequestValidationError) -> str:
    """What was wrong with a request, by field name, quoting none of what was sent."""
    problems = []
    for error in exc.errors():
        # loc is (where, field, ...): "body", "query" or "header", then names the route defines.
        where = ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0])
        problems.append(f"{where}: {error['msg']}")
    return "The request is not valid: " + "; ".join(problems[:10])


def _admin_error(request: Request, status_code: int, message: str) -> Response:
    """An error inside the admin stays inside it: its look, and a way back to the page."""
    # The page an action was posted from is its path less the verb (/admin/issues/4/approve);
    # built from our own path, never from a Referer, so it cannot lead anywhere else.
    back = request.url.path.rstrip("/").rpartition("/")[0] if request.method == "POST" else ""
    templates: Jinja2Templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "web/admin/error.html",
        {"status_code": status_code, "message": message, "back": back or "/admin/issues"},
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = ADMIN_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def error_page(request: Request, status_code: int, message: str) -> Response:
    """A short page for people, a small JSON body for programs; never a traceback."""
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=status_code)
    templates: Jinja2Templates = request.app.state.templates
    path = request.url.path
    if path == "/admin" or path.startswith("/admin/"):
        return _admin_error(request, status_code, message)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "web/error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )
    return response
