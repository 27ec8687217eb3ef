"""The subscriber API's tokens: made with scopes, shown once, kept hashed, revoked at once."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editors.accounts import AccountError
from newsletter.editors.models import ApiToken

SCOPES = {
    "subscribers:read": "list and read subscribers",
    "subscribers:write": "add subscribers (each gets the confirmation email), change topics, "
    "unsubscribe",
    "subscribers:import": "add subscribers as confirmed, without the confirmation email (only "
    "for lists whose consent you hold)",
}
PREFIX = "nlk"
# nlk_<id>_<secret>: the id finds the row, the secret (256 bits) is compared with its hash.
_SHAPE = re.compile(rf"{PREFIX}_(\d{{1,12}})_([A-Za-z0-9_-]{{43}})")
# A token's last use is written at most this often: a busy client does not write every call.
TOUCH = timedelta(minutes=1)


def _digest(secret: str) -> str:
    # 256 random bits need no slow hash: nobody can guess them from a fast one either.
    return hashlib.sha256(secret.encode()).hexdigest()


def make_token(
    session: Session, name: str, scopes: list[str], by: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token and its text, which is shown once and never stored."""
    name = " ".join(name.split())[:100]
    if not name:
        raise AccountError("give the token a name, such as the tool that will use it")
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown or not scopes:
        raise AccountError(f"choose at least one of the scopes; unknown: {', '.join(unknown)}")
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        scopes=sorted(set(scopes)),
        digest=_digest(secret),
        created_by=by,
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token, f"{PREFIX}_{token.id}_{secret}"


def token_for(session: Session, presented: str, now: datetime) -> ApiToken | None:
    """The live token `presented` is, else None (malformed, unknown, wrong secret, revoked)."""
    shape = _SHAPE.fullmatch(presented.strip())
    if shape is None:
        return None
    token = session.get(ApiToken, int(shape[1]))
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.digest, _digest(shape[2])):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH:
        token.last_used_at = now
    return token


def revoke(session: Session, token_id: int, by: str, now: datetime) -> bool:
    """Stop the token working from the next request; False when it already had."""
    token = session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at, token.revoked_by = now, by
    return True


def every_token(session: Session) -> list[ApiToken]:
    """Live ones first, newest first."""
    return list(
        session.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )
