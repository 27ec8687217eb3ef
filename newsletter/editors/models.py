"""Editor accounts: address, password hash, role, and the version their sessions carry."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base, string_enum


class Role(enum.StrEnum):
    # editor: preview, edit, test-send. publisher: also approve, schedule, cancel, send.
    EDITOR = "editor"
    PUBLISHER = "publisher"


# The password hash of an invited editor who has not chosen a password: no hash matches it.
NO_PASSWORD = "!invited"  # noqa: S105 (a marker, not a password)


class Editor(Base):
    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"), default=Role.EDITOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # Every session cookie carries the version it was signed in under; bumping it (sign-out,
    # new password, disable) ends every session the editor has, wherever the cookie went.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A pending invitation: the SHA-256 of the nonce its mailed link carries (cleared when the
    # link is used, so it works once) and when the link stops working.
    invite_digest: Mapped[str | None] = mapped_column(String(64))
    invite_expires_at: Mapped[datetime | None]
    # Two-factor sign-in (TOTP, RFC 6238): the confirmed secret, one being set up, and the last
    # time step a code was accepted for (a code is good once: no step at or before it again).
    # Both sealed (newsletter/sealed.py): a copy of the database alone passes no second step.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_pending: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def can_publish(self) -> bool:
        return self.role == Role.PUBLISHER

    @property
    def two_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash != NO_PASSWORD

    @property
    def status(self) -> str:
        """ "active", "invited" (no password chosen yet) or "disabled"."""
        if not self.active:
            return "disabled"
        return "active" if self.has_password else "invited"


class RecoveryCode(Base):
    """One of an editor's one-time codes for signing in without the authenticator app."""

    __tablename__ = "editor_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("editors.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the code: the codes are random (80 bits), so a fast hash is enough.
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class ApiToken(Base):
    """A key for the subscriber API, made by a publisher; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # What it may do: a list of newsletter.editors.api_tokens.SCOPES' keys.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(320))
