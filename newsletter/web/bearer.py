"""Operators' routes (/healthz's details, /metrics) take a bearer token from the settings."""

from __future__ import annotations

import hmac

from fastapi import Request
from pydantic import SecretStr


def carries(request: Request, token: SecretStr | None) -> bool:
    """Whether the request's bearer token is `token` (never, when no token is set).

    A token rather than an editor's session: monitoring sends a header, not a cookie, and the
    session cookie is only ever sent to /admin.
    """
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if token is None or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())
