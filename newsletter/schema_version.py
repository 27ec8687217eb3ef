"""The schema revision the code needs, checked with one query and without loading Alembic."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from newsletter.errors import DatabaseError, first_line

# The newest migration under newsletter/migrations/versions; tests/test_db.py fails when a new
# migration is added without moving this on. Every command checks it before touching data, and
# importing Alembic costs a command 7 MB more, before reading its scripts.
HEAD = "0027"


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, None for an empty database."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
            return str(revision) if revision is not None else None
    except OperationalError as exc:
        raise DatabaseError(f"cannot reach the database: {first_line(exc.orig)}") from None


def require_current(engine: Engine) -> None:
    """Refuse to run on a schema older than the code; `newsletter init` fixes it."""
    current = current_revision(engine)
    if current != HEAD:
        raise DatabaseError(
            f"the database schema is at {current or 'nothing'}, the code needs {HEAD}; "
            "run `newsletter init` first"
        )
