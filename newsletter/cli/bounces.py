"""`newsletter bounces process PATH`: mark the subscribers named by returned mail."""

from __future__ import annotations

from typing import Annotated

import typer

from newsletter.cli.output import say
from newsletter.cli.state import runtime_from
from newsletter.config import mask_url
from newsletter.deliver.bounces import process_with_settings

app = typer.Typer(help="Process returned mail: bounces, complaints, unsubscribes.")


@app.command("process")
def process(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(help="A maildir folder, an mbox file, or imaps://USER:PASS@HOST/FOLDER."),
    ],
) -> None:
    """Read bounces and complaints and mark their subscribers; other mail is left alone.

    Only a verified VERP return path or our signed Message-ID names a subscriber; bounces
    without one are listed as unattributed and change nothing.
    """
    report = process_with_settings(runtime_from(ctx), path)
    say(
        f"{mask_url(path)}: {report.hard} hard bounces, {report.soft} soft bounces, "
        f"{report.complaints} complaints, {report.unsubscribes} unsubscribes; "
        f"{report.already_processed} already processed, {len(report.left_alone)} left alone, "
        f"{len(report.unattributed)} unattributed"
    )
    for line in report.left_alone:
        say(f"  left alone: {line}")
    for line in report.unattributed:
        say(f"  unattributed: {line}")
