"""One sender per issue: a lock the operating system or database drops when its holder dies."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from newsletter.errors import SendError

# The first key names this application and schema, so two services (or test runs) sharing a
# PostgreSQL database in different schemas never hold each other's issue locks.
_PG_NAMESPACE = "hashtext('newsletter:' || current_schema())"


@contextlib.contextmanager
def issue_lock(engine: Engine, var_dir: Path, issue_id: int) -> Iterator[None]:
    """Held while an issue is sent; a second `digest send` of the same issue is refused.

    SIGKILL releases it too (a file lock dies with its process, an advisory lock with its
    connection), so a killed sender never blocks the run that resumes it.
    """
    busy = SendError(f"issue {issue_id} is being sent by another process; wait for it to finish")
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            got = connection.execute(
                text(f"SELECT pg_try_advisory_lock({_PG_NAMESPACE}, :b)"), {"b": issue_id}
            ).scalar_one()
            connection.commit()
            if not got:
                raise busy
            try:
                yield
            finally:
                connection.execute(
                    text(f"SELECT pg_advisory_unlock({_PG_NAMESPACE}, :b)"), {"b": issue_id}
                )
                connection.commit()
        return
    folder = var_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"issue-{issue_id}.lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def planning_lock(session: Session) -> None:
    """Held until the session's transaction ends: one page of one issue's deliveries is planned
    at a time, so two issues planned at once cannot both give a reader the same story (each
    reads the receipts the other committed). SQLite has one writer, and refuses the write of a
    transaction whose reads another writer has since overtaken."""
    if session.get_bind().dialect.name == "postgresql":
        # Second key 0: issue locks use the issue's id, which is never 0.
        session.execute(text(f"SELECT pg_advisory_xact_lock({_PG_NAMESPACE}, 0)"))
