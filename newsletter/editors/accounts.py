"""Creating, resetting and disabling editors, and checking their passwords (argon2)."""

from __future__ import annotations

import functools
import secrets
import threading
import unicodedata
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.editors.models import Editor, Role
from newsletter.errors import NewsletterError
from subscribers.addresses import normalise
from subscribers.errors import InvalidAddress

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps a missing account as slow as a wrong password.

    Made on first use, not at import: an argon2 hash takes 64 MiB for a moment, which every
    command (a send, an import) would otherwise carry at its peak.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


MIN_PASSWORD_LENGTH = 12
# Longest password hashed: argon2 takes any length, but a megabyte of one is only a cost.
MAX_PASSWORD_LENGTH = 1000


class AccountError(NewsletterError):
    """An editor account cannot be created or changed as asked."""


class VerifierBusy(NewsletterError):
    """Every password-check slot stayed taken for the whole wait: ask the client to retry."""


def canonical_address(address: str) -> str:
    """NFKC, casefolded and stripped: one form for every way of typing the same address.

    A full-width "ｄ" or a capital letter must not make a second account, nor a second
    sign-in bucket; this is the key even when the address is not valid.
    """
    return unicodedata.normalize("NFKC", address).casefold().strip()


def normalise_email(address: str) -> str:
    """The canonical form, then the same checks subscribers' addresses get."""
    try:
        return normalise(canonical_address(address))
    except InvalidAddress as exc:
        raise AccountError(f"{address!r} is not a valid email address: {exc}") from None


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def set_password(editor: Editor, password: str) -> None:
    """A new password: any pending invitation is spent and every session ends."""
    check_password(password)
    editor.password_hash = _hasher.hash(password)
    editor.invite_digest = None
    editor.invite_expires_at = None
    editor.session_version += 1


def find_editor(session: Session, email: str) -> Editor:
    address = normalise_email(email)
    editor = session.scalar(select(Editor).where(Editor.email == address))
    if editor is None:
        raise AccountError(f"no editor {address}; `newsletter editors list` shows them")
    return editor


def add_editor(session: Session, email: str, password: str, role: Role, now: datetime) -> Editor:
    """Create an editor, or reset an existing one's password and role (ending their sessions)."""
    check_password(password)
    address = normalise_email(email)
    editor = session.scalar(select(Editor).where(Editor.email == address))
    if editor is None:
        editor = Editor(email=address, created_at=now, session_version=0)
        session.add(editor)
    set_password(editor, password)
    editor.role = role
    editor.active = True
    return editor


def all_editors(session: Session) -> list[Editor]:
    """Every editor, by address."""
    return list(session.scalars(select(Editor).order_by(Editor.email)))


def _not_yourself(editor: Editor, by: int | None, what: str) -> None:
    # A publisher locking themselves out of the admin needs the CLI to get back in.
    if by is not None and editor.id == by:
        raise AccountError(f"you cannot {what} your own account; another publisher can")


def disable_editor(session: Session, email: str, *, by: int | None = None) -> Editor:
    """Refuse the editor's sign-ins from now on and end every session they have.

    `by` is the editor acting (None from the CLI), who may not disable themselves.
    """
    editor = find_editor(session, email)
    _not_yourself(editor, by, "disable")
    editor.active = False
    editor.invite_digest = None
    editor.invite_expires_at = None
    editor.session_version += 1
    return editor


def change_role(session: Session, email: str, role: Role, *, by: int | None = None) -> Editor:
    """Make an editor a publisher or back; their next request sees it (roles are not cached)."""
    editor = find_editor(session, email)
    if role != editor.role:
        _not_yourself(editor, by, "change the role of")
    editor.role = role
    return editor


def end_sessions(session: Session, editor_id: int) -> None:
    """Sign the editor out everywhere: every cookie signed under the old version stops working."""
    editor = session.get(Editor, editor_id)
    if editor is not None:
        editor.session_version += 1


class Verifier:
    """At most `slots` argon2 checks at once in this process (each takes 64 MiB for a moment).

    A request that finds every slot taken waits up to `wait` seconds, then gives up with
    VerifierBusy: the queue of waiting requests is bounded by the web server's threads, and
    memory by the slots, however many sign-ins arrive together.
    """

    def __init__(self, slots: int, wait: float) -> None:
        self.slots = slots
        self.wait = wait
        self._semaphore = threading.BoundedSemaphore(slots)

    def verify(self, stored: str, password: str) -> bool:
        if not self._semaphore.acquire(timeout=self.wait):
            raise VerifierBusy("too many sign-ins at once; try again in a few seconds")
        try:
            return verify_password(stored, password)
        finally:
            self._semaphore.release()


def verify_password(stored: str, password: str) -> bool:
    """The one place a password is hashed and compared (tests count its calls)."""
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, email: str, password: str, now: datetime, verifier: Verifier
) -> Editor | None:
    """The active editor with this address and password, or None; upgrades stale hashes."""
    try:
        address = normalise_email(email)
    except AccountError:
        address = ""
    editor = session.scalar(select(Editor).where(Editor.email == address)) if address else None
    usable = editor is not None and editor.active and editor.has_password
    stored = editor.password_hash if editor is not None and usable else _dummy_hash()
    if not verifier.verify(stored, password):
        return None
    if editor is None or not usable:
        return None
    if _hasher.check_needs_rehash(editor.password_hash):
        editor.password_hash = _hasher.hash(password)
    if not editor.two_factor:
        # With two-factor sign-in, the sign-in happens when the code passes.
        editor.last_login_at = now
    return editor
