"""Alembic environment: migrates the database the caller hands over, or the configured one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import newsletter.analytics.models
import newsletter.editors.models
import newsletter.models
import newsletter.schedule.models
import newsletter.webhooks.models  # noqa: F401  (outbound webhooks)
import subscribers.models  # noqa: F401  (registers the audience's tables)
from newsletter.db import Base, make_engine
from newsletter.migrate import compared

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=compared(connection.dialect.name),
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
