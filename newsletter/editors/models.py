"""Editor accounts and the sign-in attempts that rate limiting counts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base, string_enum


class Role(enum.StrEnum):
    # editor: preview, edit, test-send. publisher: also approve, schedule, cancel, send.
    EDITOR = "editor"
    PUBLISHER = "publisher"


class Editor(Base):
    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"), default=Role.EDITOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    @property
    def can_publish(self) -> bool:
        return self.role == Role.PUBLISHER


class LoginAttempt(Base):
    """One failed sign-in, kept in the database so limits hold across web processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "addr:<client address>" or "email:<address>"
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime]
