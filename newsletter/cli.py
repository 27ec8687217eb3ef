"""The `newsletter` command: one clear line and a non-zero exit for every expected error."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.console import Console

from newsletter import __version__, catalog, migrate, subscribers_cli
from newsletter.cli_state import CliState
from newsletter.collect import commands as collect_commands
from newsletter.deliver import commands as deliver_commands
from newsletter.digest.commands import digest_app
from newsletter.editors.commands import editors_app
from newsletter.errors import NewsletterError
from newsletter.publish.commands import app as feeds_app
from newsletter.schedule import commands as schedule_commands

app = typer.Typer(
    help="Newsletter and syndication service: collect posts, publish feeds, mail a weekly digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(digest_app, name="digest")
app.add_typer(subscribers_cli.app, name="subscribers")
app.add_typer(feeds_app, name="feeds")
out = Console()
err = Console(stderr=True)


def _state(ctx: typer.Context) -> CliState:
    state = ctx.ensure_object(CliState)
    return state


def _version(value: bool) -> None:
    if value:
        out.print(f"newsletter {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = CliState()


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema and load the configured topics and sources.

    Safe to run any number of times.
    """
    runtime = _state(ctx).runtime
    before = migrate.current_revision_or_none(runtime.engine)
    migrate.upgrade(runtime.engine)
    after = migrate.current_revision_or_none(runtime.engine)
    with runtime.sessions.begin() as session:
        report = catalog.sync(session, runtime.settings, runtime.clock.now())
    schema = "up to date" if before == after else f"migrated {before or 'empty'} → {after}"
    out.print(f"database: {schema} ({runtime.engine.url.render_as_string(hide_password=True)})")
    for kind, names in (
        ("added", report.added),
        ("updated", report.updated),
        ("disabled", report.disabled),
    ):
        if names:
            out.print(f"{kind}: {', '.join(names)}")


app.command("collect")(collect_commands.collect_command)
app.command("serve")(schedule_commands.serve_command)
app.command("schedule")(schedule_commands.schedule_command)
app.add_typer(collect_commands.sources_app, name="sources")
app.add_typer(editors_app, name="editors")
deliver_commands.register(app, digest_app, lambda ctx: _state(ctx).runtime)


def main() -> None:
    """Entry point: Typer reports usage errors itself; ours become one line and an exit code."""
    try:
        app()
    except NewsletterError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
