"""`newsletter collect` and `newsletter sources`: run the stage, show each source's health."""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from newsletter.cli_state import runtime_from
from newsletter.collect.run import CollectReport, SourceReport, pulled_sources
from newsletter.errors import CollectError
from newsletter.models import CollectSkip, PostSource, Source

out = Console()
sources_app = typer.Typer(help="List sources and their health; make push API keys.")


def collect_command(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Collect only this source (repeatable)."),
    ] = None,
) -> None:
    """Read every enabled source and store new and changed posts."""
    from newsletter.pipeline.publishing import collect_and_publish

    runtime = runtime_from(ctx, migrated=True)
    names = source or []
    if out.is_terminal:
        total = len(pulled_sources(runtime, names))
        columns = (
            TextColumn("collect"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
        )
        with Progress(*columns, console=out, transient=True) as progress:
            task = progress.add_task("", total=total)

            def advance(report: SourceReport) -> None:
                progress.update(task, advance=1, description=report.name)

            result = collect_and_publish(runtime, names, on_source=advance)
    else:
        result = collect_and_publish(runtime, names)
    print_report(result)
    if result.failed:
        failed = result.failed[0]
        more = f" (and {len(result.failed) - 1} more)" if len(result.failed) > 1 else ""
        raise CollectError(f"source {failed.name!r} failed: {failed.error}{more}")


def print_report(result: CollectReport) -> None:
    width = max((len(report.name) for report in result.sources), default=0)
    for report in result.sources:
        _say(f"{report.name:<{width}}  {report.counts()}")
    if not result.sources:
        out.print("no enabled sources to collect (push sources receive posts instead)")


@sources_app.callback(invoke_without_command=True)
def sources_command(ctx: typer.Context) -> None:
    """Each source: kind, state, posts, last success, last error, last run's counts and skips."""
    if ctx.invoked_subcommand is not None:
        return
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        counts = dict(
            session.execute(
                select(PostSource.source_id, func.count()).group_by(PostSource.source_id)
            ).all()
        )
        sources = list(session.scalars(select(Source).order_by(Source.name)))
        if not sources:
            _say(
                "no sources in the database; add some to newsletter.toml and run `newsletter init`"
            )
        for source in sources:
            state = "enabled" if source.enabled else "disabled"
            _say(f"{source.name} ({source.kind}, {state}): {counts.get(source.id, 0)} posts")
            _say(f"  last success: {_when(source.last_success_at)}")
            if source.last_error:
                _say(f"  last error:   {_when(source.last_error_at)}: {source.last_error}")
            _say(f"  last run:     {source.last_summary or 'never run'}")
            skips = session.scalars(
                select(CollectSkip)
                .where(CollectSkip.source_id == source.id)
                .order_by(CollectSkip.id)
            )
            for skip in skips:
                where = "" if skip.reason.startswith(skip.ref) else f"{skip.ref}: "
                _say(f"  skipped:      {where}{skip.reason}")


@sources_app.command("new-key")
def new_key() -> None:
    """Make an API key for a push source: give the key to the CMS, put the hash in the settings."""
    key = secrets.token_urlsafe(32)
    _say(f"API key (give it to the CMS; it is not stored): {key}")
    digest = hashlib.sha256(key.encode()).hexdigest()
    _say(f'settings line for the push source: api_key_sha256 = "{digest}"')


def _say(line: str) -> None:
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"
