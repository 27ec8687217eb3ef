"""Alembic environment: migrates the database the caller hands over, or the configured one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import newsletter.analytics.models
import newsletter.editors.models
import newsletter.models
import newsletter.schedule.models  # noqa: F401  (the scheduler's lease and job runs)
import subscribers.models  # noqa: F401  (registers the audience's tables)
from newsletter.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """APScheduler creates and owns its job table; autogenerate must not drop it."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _run(fresh)
    engine.dispose()
