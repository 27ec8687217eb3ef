"""The click figures as CSV, per issue or per month (for grant reports): one row per link."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from newsletter.analytics.machines import HUMAN
from newsletter.pipeline.reports import FILTERS, IssueReport
from subscribers.cells import neutralise

HEADER = (
    "issue",
    "sent_at",
    "delivered",
    "link",
    "kind",
    "title",
    "url",
    "human_clicks",
    *(f"filtered_{verdict}" for verdict in FILTERS),
)


def reports_csv(reports: Iterable[IssueReport]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for report in reports:
        sent = report.sent_at.isoformat() if report.sent_at else ""
        for link in report.links:
            writer.writerow(
                [
                    neutralise(report.key),
                    sent,
                    report.delivered,
                    link.position,
                    link.kind,
                    neutralise(link.label),
                    neutralise(link.url),
                    link.verdicts.get(HUMAN, 0),
                    *(link.verdicts.get(verdict, 0) for verdict in FILTERS),
                ]
            )
    return out.getvalue()
