"""Bring a database's schema to the newest revision with Alembic (safe to run again)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newsletter.errors import DatabaseError


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "newsletter:migrations")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade in one transaction on the engine's own connection."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise DatabaseError(f"cannot reach the database: {_first_line(exc.orig)}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"migration failed: {_first_line(exc)}") from None


def current_revision_or_none(engine: Engine) -> str | None:
    """The schema's revision, None for an empty database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"cannot reach the database: {_first_line(exc.orig)}") from None


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def require_current(engine: Engine) -> None:
    """Refuse to run on a schema older than the code; `newsletter init` fixes it."""
    current, head = current_revision_or_none(engine), head_revision()
    if current != head:
        raise DatabaseError(
            f"the database schema is at {current or 'nothing'}, the code needs {head}; "
            "run `newsletter init` first"
        )


def _first_line(exc: BaseException | None) -> str:
    return (
        str(exc).strip().splitlines()[0]
        if exc is not None and str(exc).strip()
        else "unknown error"
    )
