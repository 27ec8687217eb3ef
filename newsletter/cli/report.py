"""`newsletter report [ISSUE] [--month YYYY-MM] [--csv]`: the admin page's figures, printed."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer

from newsletter.cli.output import say
from newsletter.cli.state import runtime_from
from newsletter.errors import NewsletterError
from newsletter.pipeline.report_csv import reports_csv
from newsletter.pipeline.reports import (
    IssueReport,
    latest_sent_id,
    month_of,
    parse_month,
    sent_issue_report,
    top_stories,
)


def report(
    ctx: typer.Context,
    issue: Annotated[
        int | None, typer.Argument(help="The issue's id; the latest sent issue when left out.")
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="Every issue sent in this month (YYYY-MM) instead.")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per link.")] = False,
) -> None:
    """Deliveries, exits and clicks by people (machines counted apart). No opens are recorded."""
    runtime = runtime_from(ctx)
    if month is not None:
        reports = month_of(runtime, _month(month))
        if as_csv:
            sys.stdout.write(reports_csv(reports))
            return
        if not reports:
            say(f"no issue was sent in {month}")
            return
        for each in reports:
            _print(each)
        say(f"top stories of {month}:")
        for key, story in top_stories(reports):
            say(f"  {story.humans:>6}  {story.label}  ({key})")
        return
    chosen = issue if issue is not None else latest_sent_id(runtime)
    found = sent_issue_report(runtime, chosen) if chosen is not None else None
    if found is None:
        raise NewsletterError(
            f"no sent issue {chosen}" if chosen is not None else "no issue sent yet"
        )
    if as_csv:
        sys.stdout.write(reports_csv([found]))
    else:
        _print(found)


def _month(value: str) -> date:
    chosen = parse_month(value)
    if chosen is None:
        raise NewsletterError(f"--month {value!r}: write it YYYY-MM")
    return chosen


def _print(report: IssueReport) -> None:
    sent = report.sent_at.strftime("%Y-%m-%d %H:%M UTC") if report.sent_at else "not sent"
    say(f"issue {report.key} (id {report.issue_id}, sent {sent})")
    say(
        f"  delivered {report.delivered}, failed {report.failed}, bounced {report.bounced}, "
        f"unsubscribed {report.unsubscribed}, complained {report.complained}"
    )
    filtered = ", ".join(f"{verdict} {n}" for verdict, n in report.filtered.items())
    say(f"  clicks by people {report.humans}; filtered: {filtered}")
    say(f"  donate clicks by people {report.donate.humans if report.donate else 0}")
    say("  clicks by people per story:")
    for story in report.stories:
        say(f"  {story.humans:>6}  {story.label}  (filtered {story.filtered})")
    days = ", ".join(f"{day:%a %d %b} {n}" for day, n in report.per_day)
    say(f"  first days: {days}")
    if report.per_topic:
        topics = ", ".join(f"{label} {n}" for label, n in report.per_topic)
        say(f"  by topic audience: {topics}")
