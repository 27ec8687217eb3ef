"""`newsletter subscribers …`: import, export, add and list subscribers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from newsletter.cli.output import err, out, say
from newsletter.cli.state import runtime_from
from newsletter.confirmations import SendReport, send_confirmations
from newsletter.runtime import Runtime
from newsletter.templating import environment
from subscribers import operator
from subscribers.addresses import normalise
from subscribers.csv_export import export_csv
from subscribers.csv_import import import_csv
from subscribers.csv_parse import topic_cell
from subscribers.errors import (
    ImportFileError,
    InvalidAddress,
    InvalidName,
    SubscribersError,
)
from subscribers.models import Cadence, Status
from subscribers.signup import check_name
from subscribers.topics import known_topics

app = typer.Typer(help="Manage subscribers: import, export, add, list.", no_args_is_help=True)


@contextmanager
def _progress(label: str, total: float | None, unit_bytes: bool) -> Iterator[Progress]:
    """A bar on a terminal; silent when the output goes to a log or a pipe."""
    columns = [TextColumn(label), BarColumn()]
    columns.append(DownloadColumn() if unit_bytes else TextColumn("{task.completed}/{task.total}"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=True) as bar:
        bar.add_task(label, total=total)
        yield bar


def _send(runtime: Runtime, ids: list[int]) -> SendReport:
    templates = environment(runtime.settings)
    transport = runtime.transport()
    report = SendReport()
    try:
        with _progress("confirmation emails", len(ids), unit_bytes=False) as bar:
            for start in range(0, len(ids), 100):
                chunk = ids[start : start + 100]
                done = send_confirmations(runtime, templates, transport, chunk)
                report.sent += done.sent
                report.skipped += done.skipped
                report.failed.update(done.failed)
                bar.advance(bar.task_ids[0], len(chunk))
    finally:
        transport.close()
    return report


def _report_sent(report: SendReport) -> None:
    out.print(
        f"confirmation emails: {len(report.sent)} sent, {len(report.skipped)} not due, "
        f"{len(report.failed)} failed",
        soft_wrap=True,
    )
    for subscriber_id, reason in list(report.failed.items())[:20]:
        say(f"subscriber {subscriber_id}: {reason}", to=err)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with an email column; name, topics optional.")],
    confirmed: Annotated[
        bool,
        typer.Option(help="The list owner has consent already: import as active, send no email."),
    ] = False,
) -> None:
    """Import subscribers from a CSV file (email,name,topics + other columns as attributes).

    Rejected rows are listed with their line number and reason; running it again changes nothing.
    Without --confirmed, new subscribers are pending and get a confirmation email.
    """
    runtime = runtime_from(ctx)
    try:
        stream = file.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{file}: cannot read: {exc.strerror}") from None
    settings = runtime.settings.subscribers
    with stream, _progress(f"importing {file.name}", file.stat().st_size, True) as bar:
        try:
            report = import_csv(
                runtime.sessions,
                stream,
                runtime.clock.now(),
                confirmed=confirmed,
                source=file.name,
                check_deliverability=settings.check_deliverability,
                progress=lambda read: bar.update(bar.task_ids[0], completed=read),
                keys=runtime.verification_keys,
                offer=runtime.cadences,
            )
        except ImportFileError as exc:
            raise SubscribersError(f"{file}: {exc}; nothing was imported") from None
    for rejection in report.rejected:
        where = f"{file}:{rejection.line}"
        who = f" {rejection.email}:" if rejection.email else ""
        say(f"{where}:{who} {rejection.reason}", to=err)
    out.print(
        f"{file}: {report.rows} rows: {report.imported} imported, "
        f"{report.existing} already on the list, {len(report.rejected)} rejected",
        soft_wrap=True,
    )
    if report.to_confirm:
        _report_sent(_send(runtime, report.to_confirm))


@app.command()
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    status: Annotated[Status | None, typer.Option(help="Only subscribers in this state.")] = None,
) -> None:
    """Write subscribers as CSV, safe to open in a spreadsheet and to import again."""
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        if output is None:
            count = export_csv(session, sys.stdout, status)
        else:
            tmp = output.with_name(f".{output.name}.tmp")
            try:
                with tmp.open("w", encoding="utf-8", newline="") as handle:
                    count = export_csv(session, handle, status)
                tmp.replace(output)
            except OSError as exc:
                raise SubscribersError(f"{output}: cannot write: {exc.strerror}") from None
            err.print(f"{output}: {count} subscribers written", soft_wrap=True)


@app.command()
def add(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="The email address.")],
    name: Annotated[str, typer.Option(help="The subscriber's name.")] = "",
    topics: Annotated[
        str,
        typer.Option(
            help="Topic slugs, comma-separated, each as slug or slug:cadence (weekly, daily, "
            "each; as in the CSV import); none: all."
        ),
    ] = "",
    confirmed: Annotated[
        bool, typer.Option(help="Consent is already given: make it active, send no email.")
    ] = False,
) -> None:
    """Add one subscriber (pending with a confirmation email, or --confirmed)."""
    runtime = runtime_from(ctx)
    now = runtime.clock.now()
    settings = runtime.settings.subscribers
    try:
        email = normalise(address, check_deliverability=settings.check_deliverability)
    except InvalidAddress as exc:
        raise InvalidAddress(f"{address!r} is not a valid address: {exc.reason}", address) from None
    try:
        name = check_name(name)
    except InvalidName as exc:
        raise InvalidName(f"{email}: {exc.reason}", exc.name) from None
    with runtime.sessions.begin() as session:
        chosen = topic_cell(known_topics(session), topics, runtime.cadences)
        if isinstance(chosen, str):
            raise SubscribersError(f"--topics: {chosen}")
        ids, cadences = chosen
        subscriber_id = operator.add(
            session, email, name, ids, now, confirmed=confirmed, cadences=cadences
        )
    if confirmed:
        out.print(f"{email}: added, active", soft_wrap=True)
        return
    out.print(f"{email}: added, pending confirmation", soft_wrap=True)
    _report_sent(_send(runtime, [subscriber_id]))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="Only subscribers in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
) -> None:
    """List subscribers, newest first."""
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        rows = operator.newest(session, status, limit)
    table = Table("email", "name", "status", "topics", "since", box=None)
    plain = not out.is_terminal  # a pipe gets whole tab-separated lines, never truncated cells
    for row in rows:
        cells = (
            row.email,
            row.name,
            row.status.value,
            ",".join(_topic(slug, cadence) for slug, cadence in row.topics.items()) or "all",
            _date(row.created_at),
        )
        if plain:
            sys.stdout.write("\t".join(cells) + "\n")  # rich would expand the tabs
        else:
            table.add_row(*(Text(cell) for cell in cells))
    if not plain:
        out.print(table, soft_wrap=True)
    if not rows:
        err.print("no subscribers", soft_wrap=True)


def _topic(slug: str, cadence: Cadence) -> str:
    """A topic as listed: its slug, with how often when not weekly ("asylum (daily)")."""
    return slug if cadence == Cadence.WEEKLY else f"{slug} ({cadence.value})"


def _date(at: datetime) -> str:
    return at.date().isoformat()
