"""CSRF tokens for the admin's forms: one per session, checked on every POST."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.exceptions import HTTPException


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; every admin form carries it."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str)) or not hmac.compare_digest(
        sent, expected
    ):
        raise HTTPException(
            403, "This form has expired or did not come from this site. Reload it and try again."
        )
