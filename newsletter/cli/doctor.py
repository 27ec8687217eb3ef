"""`newsletter doctor`: the database, how mail leaves, and the sending domain's SPF, DKIM, DMARC."""

from __future__ import annotations

import typer

from newsletter.cli.output import say
from newsletter.cli.state import runtime_from
from newsletter.deliver.domain import Verdict
from newsletter.pipeline.doctor import examine

MARK = {Verdict.PASS: "ok  ", Verdict.WARN: "warn", Verdict.FAIL: "FAIL"}


def doctor(ctx: typer.Context) -> None:
    """Check the setup as receivers will: exit 1 when any check fails."""
    findings = examine(runtime_from(ctx, check_schema=False))
    for finding in findings:
        say(f"{MARK[finding.verdict]} {finding.check}: {finding.says}")
    if any(finding.verdict is Verdict.FAIL for finding in findings):
        raise typer.Exit(1)
