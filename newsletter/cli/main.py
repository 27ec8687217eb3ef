"""The root `newsletter` command: options, the command table, one line per expected error."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, NoReturn

import typer

from newsletter import LOG_FORMAT, __version__
from newsletter.cli.lazy import lazy_group
from newsletter.cli.output import err, out
from newsletter.cli.state import CliState
from newsletter.config import mask_credentials
from newsletter.errors import DatabaseError, NewsletterError, first_line

# Each command's module is imported only when it runs (see newsletter/cli/lazy.py). `digest send`
# and `pause` live apart from the other digest commands: a send must not load the renderer.
COMMANDS = {
    "init": "newsletter.cli.init:init",
    "collect": "newsletter.cli.collect:collect",
    "serve": "newsletter.cli.serve:serve",
    "schedule": "newsletter.cli.schedule:schedule",
    "worker": "newsletter.cli.worker:worker",
    "digest": "newsletter.cli.main:digest_app",
    "issue": "newsletter.cli.main:issue_app",
    "subscribers": "newsletter.cli.subscribers:app",
    "feeds": "newsletter.cli.feeds:app",
    "sources": "newsletter.cli.sources:app",
    "editors": "newsletter.cli.editors:app",
    "bounces": "newsletter.cli.bounces:app",
    "doctor": "newsletter.cli.doctor:doctor",
    "report": "newsletter.cli.report:report",
}
DIGEST_COMMANDS = {
    "build": "newsletter.cli.digest:build",
    "preview": "newsletter.cli.digest:preview",
    "test": "newsletter.cli.digest:send_test",
    "approve": "newsletter.cli.digest:approve",
    "send": "newsletter.cli.send:send",
    "pause": "newsletter.cli.send:pause",
}
ISSUE_COMMANDS = {
    "new": "newsletter.cli.issue:new",
}

app = typer.Typer(
    cls=lazy_group(COMMANDS),
    help="Newsletter and syndication service: collect posts, publish feeds, mail a weekly digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
digest_app = typer.Typer(
    cls=lazy_group(DIGEST_COMMANDS),
    help="Build, preview, test, approve and send the weekly digest.",
    no_args_is_help=True,
)

issue_app = typer.Typer(
    cls=lazy_group(ISSUE_COMMANDS),
    help="Special issues (breaking news, appeals): reviewed and sent as digests are.",
    no_args_is_help=True,
)


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
        format=LOG_FORMAT,
    )
    ctx.obj = CliState()


def explain_fault(exc: BaseException) -> NewsletterError | None:
    """A database or file-system fault any command can meet, as one line; None for a bug.

    The driver's message is the first line of the original error only: SQLAlchemy's own text
    carries the statement and its parameters (an address, a token, a password hash).
    """
    sa_exc = sys.modules.get("sqlalchemy.exc")  # not loaded: the fault cannot be SQLAlchemy's
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        reason = first_line(exc.orig).rstrip(".")
        lowered = reason.lower()
        if "database is locked" in lowered:
            return DatabaseError(
                "the database is locked: another process holds a write lock on it; "
                "try again when it has finished"
            )
        if "readonly database" in lowered or "read-only" in lowered:
            return DatabaseError(
                "the database is read-only: the service must be able to write the database "
                "file and its folder"
            )
        return DatabaseError(f"database error: {reason}")
    if sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError):
        return DatabaseError(f"database error: {first_line(exc)}")
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return NewsletterError(f"{exc.strerror or first_line(exc)}{where}")
    return None


def _fail(exc: NewsletterError) -> NoReturn:
    # Whatever a driver or library put in the message, no URL's password reaches the terminal.
    err.print(f"error: {mask_credentials(str(exc))}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(exc.exit_code)


def main() -> None:
    """Entry point: Typer reports usage errors itself; ours become one line and an exit code."""
    try:
        app()
    except NewsletterError as exc:
        _fail(exc)
    except Exception as exc:
        explained = explain_fault(exc)
        if explained is None:
            raise
        _fail(explained)
