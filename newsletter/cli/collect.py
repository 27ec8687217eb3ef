"""`newsletter collect`: run the collect stage and publish what changed, one line per source."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from newsletter.cli.output import out, say
from newsletter.cli.state import runtime_from
from newsletter.collect.run import CollectReport, SourceReport, pulled_sources
from newsletter.errors import CollectError
from newsletter.pipeline.publishing import collect_and_publish


def collect(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Collect only this source (repeatable)."),
    ] = None,
) -> None:
    """Read every enabled source and store new and changed posts."""
    runtime = runtime_from(ctx)
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
    _print_report(result)
    if result.failed:
        failed = result.failed[0]
        more = f" (and {len(result.failed) - 1} more)" if len(result.failed) > 1 else ""
        raise CollectError(f"source {failed.name!r} failed: {failed.error}{more}")


def _print_report(result: CollectReport) -> None:
    width = max((len(report.name) for report in result.sources), default=0)
    for report in result.sources:
        say(f"{report.name:<{width}}  {report.counts()}")
    if not result.sources:
        out.print("no enabled sources to collect (push sources receive posts instead)")
