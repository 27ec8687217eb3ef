"""Bring a database's schema to the newest revision with Alembic (safe to run again)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newsletter.errors import DatabaseError, first_line


def compared(dialect: str) -> Callable[[object, str | None, str, bool, object], bool]:
    """Autogenerate's filter: APScheduler's own table, and indexes of another database, are
    not the models' business (the scheduler owns its table; a PostgreSQL-only index is absent
    from SQLite on purpose)."""

    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        if type_ == "table" and name == "apscheduler_jobs":
            return False
        only = getattr(obj, "info", {}).get("dialect") if type_ == "index" else None
        return only in (None, dialect)

    return include


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
        raise DatabaseError(f"cannot reach the database: {first_line(exc.orig)}") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"migration failed: {first_line(exc)}") from None


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
