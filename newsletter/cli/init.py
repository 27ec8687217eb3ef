"""`newsletter init`: create or upgrade the schema and load the configured topics and sources."""

from __future__ import annotations

import typer

from newsletter import catalog, migrate
from newsletter.cli.output import out
from newsletter.cli.state import runtime_from
from newsletter.schema_version import current_revision


def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema and load the configured topics and sources.

    Safe to run any number of times.
    """
    runtime = runtime_from(ctx, check_schema=False)  # it is what brings the schema up
    before = current_revision(runtime.engine)
    migrate.upgrade(runtime.engine)
    after = current_revision(runtime.engine)
    with runtime.sessions.begin() as session:
        report = catalog.sync(session, runtime.settings, runtime.clock.now())
    schema = "up to date" if before == after else f"migrated {before or 'empty'} → {after}"
    out.print(f"database: {schema} ({runtime.engine.url.render_as_string(hide_password=True)})")
    for kind, names in (
        ("added", report.added),
        ("updated", report.updated),
        ("disabled", report.disabled),
        ("kept as an editor changed them in the admin", report.kept),
    ):
        if names:
            out.print(f"{kind}: {', '.join(names)}")
