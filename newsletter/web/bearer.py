"""Bearer tokens: read from the Authorization header the one way, and the operators' token
(/healthz's details, /metrics) checked against the settings."""

from __future__ import annotations

import hmac

from fastapi import Request
from pydantic import SecretStr


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header (the scheme in any case, RFC 9110
    section 11.1); None for none, another scheme or an empty token."""
    scheme, _, value = (header or "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def carries(request: Request, token: SecretStr | None) -> bool:
    """Whether the request's bearer token is `token` (never, when no token is set).

    A token rather than an editor's session: monitoring sends a header, not a cookie, and the
    session cookie is only ever sent to /admin.
    """
    given = bearer_token(request.headers.get("authorization"))
    if token is None or given is None:
        return False
    return hmac.compare_digest(given.encode(), token.get_secret_value().encode())
