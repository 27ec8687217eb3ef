"""Editors' sign-in: sessions, CSRF tokens, and the guards every /admin route stands behind."""

from __future__ import annotations

import functools
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.exceptions import HTTPException

from newsletter.editors.accounts import (
    Verifier,
    VerifierBusy,
    authenticate,
    canonical_address,
    end_sessions,
)
from newsletter.editors.limits import SignInCounter, SignInLimits
from newsletter.editors.models import Editor
from newsletter.web.admin.csrf import check_csrf, csrf_token
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of

router = APIRouter()

# A browser that signed in to an account is trusted with its own sign-in allowance for it.
DEVICE_COOKIE = "newsletter_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
# How long a sign-in waits for a free password-check slot before it is asked to retry.
VERIFY_WAIT_SECONDS = 3.0


@functools.cache
def _verifier(slots: int) -> Verifier:
    # One per process and setting: the bound holds over every request this process serves.
    return Verifier(slots, VERIFY_WAIT_SECONDS)


def _device_signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="newsletter.admin-device")


def trusted_device(request: Request, secret: str, address: str) -> str | None:
    """The device id of a valid cookie this browser got signing in to `address`, else None."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value or len(value) > 500:
        return None
    try:
        loaded: Any = _device_signer(secret).loads(value, max_age=DEVICE_MAX_AGE)
    except BadData:
        return None
    if isinstance(loaded, list) and len(loaded) == 2 and loaded[0] == address:
        return str(loaded[1])
    return None


def _signed_in(request: Request) -> Editor | None:
    """The editor this session belongs to, if it is still active and not signed out since."""
    editor_id = request.session.get("editor_id")
    version = request.session.get("session_version")
    if not (isinstance(editor_id, int) and isinstance(version, int)):
        return None
    with runtime_of(request).sessions() as session:
        editor = session.get(Editor, editor_id)
    if editor is None or not editor.active or editor.session_version != version:
        return None
    return editor


def current_editor(request: Request) -> Editor:
    """The signed-in editor; anyone else is sent to the sign-in page (or refused, for POST)."""
    editor = _signed_in(request)
    if editor is None:
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


def _login_page(request: Request, next: str | None, error: str, status: int) -> Response:
    return render(
        request, "web/admin/login.html", {"next": _safe_next(next), "error": error}, status
    )


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    runtime = runtime_of(request)
    admin = runtime.settings.admin
    secret = runtime.signing_key
    limits = SignInLimits.from_settings(admin)
    counter = SignInCounter(runtime.sessions)
    # Buckets are keyed on the canonical address: "ＡＢ@x" and " ab@X" are the same account.
    address = canonical_address(email)[:320]
    client = request.client.host if request.client else "unknown"
    device = trusted_device(request, secret, address)
    buckets = limits.buckets(address, client, device)
    now = runtime.clock.now()
    retry_after = {"Retry-After": str(int(limits.window.total_seconds()))}
    if not counter.admit(limits, buckets, now):
        response = _login_page(
            request, next, "Too many sign-in attempts. Wait a few minutes and try again.", 429
        )
        response.headers.update(retry_after)
        return response
    try:
        with runtime.sessions.begin() as session:
            editor = authenticate(session, email, password, now, _verifier(admin.password_checks))
            if editor is not None:
                editor_id, version = editor.id, editor.session_version
    except VerifierBusy:
        response = _login_page(
            request, next, "The server is busy. Try again in a few seconds.", 503
        )
        response.headers["Retry-After"] = "5"
        return response
    if editor is None:
        return _login_page(request, next, "That email and password do not match an editor.", 401)
    counter.succeeded(buckets)
    # A new session on sign-in, so a token planted before it is worth nothing after.
    request.session.clear()
    request.session["editor_id"] = editor_id
    request.session["session_version"] = version
    csrf_token(request)
    response = RedirectResponse(_safe_next(next), status_code=303)
    device_id = device or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer(secret).dumps([address, device_id]),
        max_age=DEVICE_MAX_AGE,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.site.url.scheme == "https",
    )
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    editor = _signed_in(request)
    if editor is not None:
        # Signing out ends this editor's sessions everywhere, copies of the cookie included.
        with runtime_of(request).sessions.begin() as session:
            end_sessions(session, editor.id)
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
