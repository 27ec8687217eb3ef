"""Editors' sign-in: sessions, CSRF tokens, and the guards every /admin route stands behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from newsletter.editors.accounts import RateLimiter, authenticate
from newsletter.editors.models import Editor
from newsletter.web.admin.csrf import check_csrf, csrf_token
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of

router = APIRouter()


def current_editor(request: Request) -> Editor:
    """The signed-in editor; anyone else is sent to the sign-in page (or refused, for POST)."""
    editor_id = request.session.get("editor_id")
    editor = None
    if isinstance(editor_id, int):
        with runtime_of(request).sessions() as session:
            editor = session.get(Editor, editor_id)
    if editor is None or not editor.active:
        if request.method in ("GET", "HEAD"):
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            raise HTTPException(
                303, "Sign in first", headers={"Location": f"/admin/login?next={target}"}
            )
        raise HTTPException(401, "Sign in first.")
    return editor


def current_publisher(editor: Annotated[Editor, Depends(current_editor)]) -> Editor:
    if not editor.can_publish:
        raise HTTPException(403, "Only a publisher can approve, schedule, cancel or send an issue.")
    return editor


EditorDep = Annotated[Editor, Depends(current_editor)]
PublisherDep = Annotated[Editor, Depends(current_publisher)]
Csrf = Depends(check_csrf)


def _safe_next(target: str | None) -> str:
    # Only paths inside the admin: never an open redirect to another site.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin/issues"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "web/admin/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    runtime = runtime_of(request)
    admin = runtime.settings.admin
    limiter = RateLimiter(admin.login_attempts, timedelta(minutes=admin.login_window_minutes))
    client = request.client.host if request.client else "unknown"
    keys = [f"addr:{client}", f"email:{email.strip().lower()}"]
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        if limiter.blocked(session, keys, now):
            editor = None
            error = "Too many failed sign-ins. Wait a few minutes and try again."
            status = 429
        else:
            editor = authenticate(session, email, password, now)
            error, status = "That email and password do not match an editor.", 401
            if editor is None:
                limiter.failed(session, keys, now)
            else:
                limiter.succeeded(session, keys)
                editor_id = editor.id
    if editor is None:
        return render(
            request, "web/admin/login.html", {"next": _safe_next(next), "error": error}, status
        )
    # A new session on sign-in, so a token planted before it is worth nothing after.
    request.session.clear()
    request.session["editor_id"] = editor_id
    csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
