"""Editor accounts: address, password hash, role, and the version their sessions carry."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Integer, String
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
    # Every session cookie carries the version it was signed in under; bumping it (sign-out,
    # new password, disable) ends every session the editor has, wherever the cookie went.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def can_publish(self) -> bool:
        return self.role == Role.PUBLISHER
