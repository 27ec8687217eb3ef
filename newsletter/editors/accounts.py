"""Creating editors and checking their passwords (argon2), with sign-in rate limits."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from newsletter.editors.models import Editor, LoginAttempt, Role
from newsletter.errors import NewsletterError
from subscribers.addresses import InvalidAddress, normalise

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps a missing account as slow as a wrong password.

    Made on first use, not at import: an argon2 hash takes 64 MiB for a moment, which every
    command (a send, an import) would otherwise carry at its peak.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


MIN_PASSWORD_LENGTH = 12


class AccountError(NewsletterError):
    """An editor account cannot be created or changed as asked."""


def normalise_email(address: str) -> str:
    """The same canonical form subscribers' addresses get, so one person matches one row."""
    try:
        return normalise(address)
    except InvalidAddress as exc:
        raise AccountError(f"{address!r} is not a valid email address: {exc}") from None


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def add_editor(session: Session, email: str, password: str, role: Role, now: datetime) -> Editor:
    """Create an editor, or reset an existing one's password and role."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    address = normalise_email(email)
    editor = session.scalar(select(Editor).where(Editor.email == address))
    if editor is None:
        editor = Editor(email=address, created_at=now)
        session.add(editor)
    editor.password_hash = _hasher.hash(password)
    editor.role = role
    editor.active = True
    return editor


def authenticate(session: Session, email: str, password: str, now: datetime) -> Editor | None:
    """The active editor with this address and password, or None; upgrades stale hashes."""
    try:
        address = normalise_email(email)
    except AccountError:
        address = ""
    editor = session.scalar(select(Editor).where(Editor.email == address)) if address else None
    stored = editor.password_hash if editor is not None and editor.active else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if editor is None or not editor.active:
        return None
    if _hasher.check_needs_rehash(editor.password_hash):
        editor.password_hash = _hasher.hash(password)
    editor.last_login_at = now
    return editor


class RateLimiter:
    """Failed sign-ins per client address and per account within a sliding window."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window

    def blocked(self, session: Session, keys: list[str], now: datetime) -> bool:
        since = now - self.window
        count = session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.key.in_(keys), LoginAttempt.at > since)
            .group_by(LoginAttempt.key)
            .order_by(func.count().desc())
            .limit(1)
        )
        return (count or 0) >= self.limit

    def failed(self, session: Session, keys: list[str], now: datetime) -> None:
        session.add_all(LoginAttempt(key=key, at=now) for key in keys)
        # Old attempts are of no use; drop them as we go instead of in a separate job.
        session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - self.window))

    def succeeded(self, session: Session, keys: list[str]) -> None:
        session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(keys)))
