"""CSRF protection without login: a signed double-submit token (cookie nonce, signed field)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "newsletter_csrf"
FIELD = "csrf_token"
# A form left open in a tab for a day still works; older ones ask for a reload.
MAX_AGE_SECONDS = 24 * 3600


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="newsletter.csrf")


def _nonce(request: Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if 20 <= len(value) <= 100 and value.isascii() else None


def issue(request: Request, secret: str) -> tuple[str, str | None]:
    """The form field's value, and a new cookie nonce to set when the visitor has none yet.

    A cross-site page can make the browser send our cookie, but cannot read it, nor sign it:
    it cannot produce a field that matches.
    """
    nonce = _nonce(request)
    fresh = None
    if nonce is None:
        nonce = fresh = secrets.token_urlsafe(24)
    token: str = _serializer(secret).dumps(nonce)
    return token, fresh


def set_cookie(response: Response, nonce: str | None, secure: bool) -> None:
    if nonce is not None:
        response.set_cookie(
            COOKIE, nonce, max_age=MAX_AGE_SECONDS, httponly=True, samesite="lax", secure=secure
        )


def valid(request: Request, secret: str, submitted: str) -> bool:
    nonce = _nonce(request)
    if nonce is None or not submitted:
        return False
    try:
        signed = _serializer(secret).loads(submitted, max_age=MAX_AGE_SECONDS)
    except BadData:
        return False
    return isinstance(signed, str) and hmac.compare_digest(signed, nonce)
