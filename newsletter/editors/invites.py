"""Inviting editors: a signed set-password link that works once and until it expires."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editors.accounts import AccountError, normalise_email, set_password
from newsletter.editors.models import NO_PASSWORD, Editor, Role

INVITE_TTL = timedelta(hours=72)
# Longest token read from a link; a real one is about 80 characters.
MAX_TOKEN_LENGTH = 300
_SALT = "newsletter.editor-invite"


class InviteError(AccountError):
    """The link is not one we made, was used already, or has expired."""


@dataclass(frozen=True)
class Invitation:
    email: str
    role: Role
    link: str
    expires_at: datetime


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def invite_editor(
    session: Session,
    email: str,
    role: Role,
    now: datetime,
    *,
    secret: str,
    base_url: str,
    ttl: timedelta = INVITE_TTL,
) -> Invitation:
    """A new editor with no password yet (or a disabled or still invited one) and their link.

    Inviting again replaces the earlier link; an editor who has chosen a password and is
    active is refused (they reset it with `newsletter editors add`).
    """
    address = normalise_email(email)
    editor = session.scalar(select(Editor).where(Editor.email == address))
    if editor is None:
        editor = Editor(email=address, created_at=now, session_version=0)
        session.add(editor)
    elif editor.status == "active":
        raise AccountError(f"{address} already has an account")
    else:
        editor.session_version += 1
    editor.password_hash = NO_PASSWORD
    editor.role = role
    editor.active = True
    # Only the nonce's hash is kept: a copy of the database cannot be turned into a link.
    nonce = secrets.token_urlsafe(24)
    editor.invite_digest = _digest(nonce)
    editor.invite_expires_at = now + ttl
    session.flush()
    token = URLSafeSerializer(secret, salt=_SALT).dumps([editor.id, nonce])
    return Invitation(address, role, f"{base_url}/admin/set-password?token={token}", now + ttl)


def _payload(token: str, keys: Sequence[str]) -> tuple[int, str]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise InviteError("this link is not valid")
    for key in keys:
        try:
            loaded: Any = URLSafeSerializer(key, salt=_SALT).loads(token)
        except BadData:
            continue
        if (
            isinstance(loaded, list)
            and len(loaded) == 2
            and isinstance(loaded[0], int)
            and isinstance(loaded[1], str)
        ):
            return loaded[0], loaded[1]
    raise InviteError("this link is not valid")


def invited_editor(session: Session, token: str, now: datetime, keys: Sequence[str]) -> Editor:
    """The editor a valid, unused, unexpired invitation link names; InviteError otherwise."""
    editor_id, nonce = _payload(token, keys)
    editor = session.get(Editor, editor_id)
    if (
        editor is None
        or not editor.active
        or editor.invite_digest is None
        or not hmac.compare_digest(editor.invite_digest, _digest(nonce))
    ):
        raise InviteError("this link was used already or replaced by a newer one")
    if editor.invite_expires_at is None or editor.invite_expires_at <= now:
        raise InviteError("this link has expired; ask a publisher to invite you again")
    return editor


def accept_invitation(
    session: Session, token: str, password: str, now: datetime, keys: Sequence[str]
) -> Editor:
    """Set the invited editor's password; the link stops working."""
    editor = invited_editor(session, token, now, keys)
    set_password(editor, password)
    return editor
