"""Editors' sign-in: sessions, CSRF tokens, and the guards every /admin route stands behind."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
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
from newsletter.editors.limits import Bucket, SignInCounter, SignInLimits
from newsletter.editors.models import Editor
from newsletter.editors.two_factor import verify_second_factor
from newsletter.web.admin.csrf import check_csrf, csrf_token
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of

router = APIRouter()

# A browser that signed in to an account is trusted with its own sign-in allowance for it.
DEVICE_COOKIE = "newsletter_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
# How long a sign-in waits for a free password-check slot before it is asked to retry.
VERIFY_WAIT_SECONDS = 3.0
# How long after the password the code may come, before the sign-in starts over.
CODE_STEP_SECONDS = 300
# Where an editor without two-factor sign-in goes when it is required: they can do nothing else.
ENROL_PATH = "/admin/account"
_PENDING = "pending_sign_in"


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


def enrolling_editor(request: Request) -> Editor:
    """The signed-in editor, with or without two-factor sign-in: for their account page only."""
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


def current_editor(
    editor: Annotated[Editor, Depends(enrolling_editor)], request: Request
) -> Editor:
    """The signed-in editor, who has set up two-factor sign-in when the settings require it."""
    if runtime_of(request).settings.admin.require_two_factor and not editor.two_factor:
        if request.method in ("GET", "HEAD"):
            raise HTTPException(
                303, "Set up two-factor sign-in first", headers={"Location": ENROL_PATH}
            )
        raise HTTPException(403, "Set up two-factor sign-in first (your account page).")
    return editor


def current_publisher(editor: Annotated[Editor, Depends(current_editor)]) -> Editor:
    if not editor.can_publish:
        raise HTTPException(403, "Only a publisher can approve, schedule, cancel or send an issue.")
    return editor


EditorDep = Annotated[Editor, Depends(current_editor)]
EnrollingDep = Annotated[Editor, Depends(enrolling_editor)]
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


@dataclass(frozen=True)
class _Attempt:
    """Where one sign-in attempt (a password or a code) counts, shared by both steps."""

    limits: SignInLimits
    counter: SignInCounter
    address: str
    device: str | None
    buckets: list[Bucket]


def _attempt(request: Request, address: str) -> _Attempt:
    runtime = runtime_of(request)
    limits = SignInLimits.from_settings(runtime.settings.admin)
    client = request.client.host if request.client else "unknown"
    device = trusted_device(request, runtime.signing_key, address)
    return _Attempt(
        limits,
        SignInCounter(runtime.sessions),
        address,
        device,
        limits.buckets(address, client, device),
    )


def _too_many(attempt: _Attempt, page: Callable[[str, int], Response]) -> Response:
    response = page("Too many sign-in attempts. Wait a few minutes and try again.", 429)
    response.headers["Retry-After"] = str(int(attempt.limits.window.total_seconds()))
    return response


def _complete(
    request: Request, attempt: _Attempt, editor_id: int, version: int, next: str | None
) -> Response:
    """The editor is in: a fresh session, their tries forgiven, this browser trusted."""
    runtime = runtime_of(request)
    attempt.counter.succeeded(attempt.buckets)
    # A new session on sign-in, so a token planted before it is worth nothing after.
    request.session.clear()
    request.session["editor_id"] = editor_id
    request.session["session_version"] = version
    csrf_token(request)
    response = RedirectResponse(_safe_next(next), status_code=303)
    device_id = attempt.device or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer(runtime.signing_key).dumps([attempt.address, device_id]),
        max_age=DEVICE_MAX_AGE,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.site.url.scheme == "https",
    )
    return response


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    runtime = runtime_of(request)
    admin = runtime.settings.admin
    # Buckets are keyed on the canonical address: "ＡＢ@x" and " ab@X" are the same account.
    attempt = _attempt(request, canonical_address(email)[:320])
    now = runtime.clock.now()
    if not attempt.counter.admit(attempt.limits, attempt.buckets, now):
        return _too_many(attempt, lambda error, status: _login_page(request, next, error, status))
    try:
        with runtime.sessions.begin() as session:
            editor = authenticate(session, email, password, now, _verifier(admin.password_checks))
            if editor is not None:
                editor_id, version, two_factor = (
                    editor.id,
                    editor.session_version,
                    editor.two_factor,
                )
    except VerifierBusy:
        response = _login_page(
            request, next, "The server is busy. Try again in a few seconds.", 503
        )
        response.headers["Retry-After"] = "5"
        return response
    if editor is None:
        return _login_page(request, next, "That email and password do not match an editor.", 401)
    if two_factor:
        # Half signed in: the code comes next, and only then are the tries forgiven (else a
        # guesser holding the password could reset the count between guesses at the code).
        request.session.clear()
        request.session[_PENDING] = {
            "id": editor_id,
            "version": version,
            "address": attempt.address,
            "at": now.timestamp(),
            "next": _safe_next(next),
        }
        csrf_token(request)
        return RedirectResponse("/admin/login/code", status_code=303)
    if admin.require_two_factor:
        next = ENROL_PATH
    return _complete(request, attempt, editor_id, version, next)


def _pending(request: Request) -> dict[str, Any] | None:
    """The half-done sign-in this session holds, if it is recent enough."""
    pending = request.session.get(_PENDING)
    if not isinstance(pending, dict):
        return None
    at = pending.get("at")
    now = runtime_of(request).clock.now().timestamp()
    if not isinstance(at, float) or not 0 <= now - at <= CODE_STEP_SECONDS:
        return None
    return pending


def _code_page(request: Request, error: str | None, status: int = 200) -> Response:
    return render(request, "web/admin/login_code.html", {"error": error}, status)


@router.get("/login/code", response_class=HTMLResponse)
def code_form(request: Request) -> Response:
    if _pending(request) is None:
        return RedirectResponse("/admin/login", status_code=303)
    return _code_page(request, None)


@router.post("/login/code", dependencies=[Csrf])
def code(request: Request, code: Annotated[str, Form(max_length=100)]) -> Response:
    """The second step: a code from the editor's app, or one of their recovery codes."""
    runtime = runtime_of(request)
    pending = _pending(request)
    if pending is None:
        request.session.pop(_PENDING, None)
        return _login_page(request, None, "That took too long. Sign in again.", 401)
    attempt = _attempt(request, str(pending["address"]))
    now = runtime.clock.now()
    if not attempt.counter.admit(attempt.limits, attempt.buckets, now):
        return _too_many(attempt, lambda error, status: _code_page(request, error, status))
    with runtime.sessions.begin() as session:
        editor = session.get(Editor, pending["id"])
        if editor is None or not editor.active or editor.session_version != pending["version"]:
            passed = False
        else:
            passed = verify_second_factor(session, editor, code, now, runtime.sealer)
            if passed:
                editor.last_login_at = now
    if not passed:
        return _code_page(
            request, "That code does not match, or was used already. Try the next one.", 401
        )
    return _complete(request, attempt, pending["id"], pending["version"], pending["next"])


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    editor = _signed_in(request)
    if editor is not None:
        # Signing out ends this editor's sessions everywhere, copies of the cookie included.
        with runtime_of(request).sessions.begin() as session:
            end_sessions(session, editor.id)
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
