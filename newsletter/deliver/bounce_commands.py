"""`newsletter bounces process PATH`: mark the subscribers named by returned mail."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newsletter.cli_state import runtime_from
from newsletter.deliver.bounces import process_with_settings
from newsletter.runtime import Runtime
from newsletter.schema_version import require_current

out = Console()
bounces_app = typer.Typer(help="Process returned mail: bounces, complaints, unsubscribes.")


def bounces_command(runtime: Runtime, path: Path) -> None:
    require_current(runtime.engine)
    report = process_with_settings(runtime, path)
    out.print(
        f"{path}: {report.hard} hard bounces, {report.soft} soft bounces, "
        f"{report.complaints} complaints, {report.unsubscribes} unsubscribes; "
        f"{report.already_processed} already processed, {len(report.left_alone)} left alone, "
        f"{len(report.unattributed)} unattributed",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for line in report.left_alone:
        out.print(f"  left alone: {line}", markup=False, highlight=False, soft_wrap=True)
    for line in report.unattributed:
        out.print(f"  unattributed: {line}", markup=False, highlight=False, soft_wrap=True)


@bounces_app.command("process")
def process(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A maildir folder or an mbox file.")],
) -> None:
    """Read bounces and complaints and mark their subscribers; other mail is left alone.

    Only a verified VERP return path or our signed Message-ID names a subscriber; bounces
    without one are listed as unattributed and change nothing.
    """
    bounces_command(runtime_from(ctx), path)
