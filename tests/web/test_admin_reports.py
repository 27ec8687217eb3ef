"""The sent issue's report: deliveries, exits, human clicks drawn, machines apart; CSV exports."""

from __future__ import annotations

import csv
import io

import pytest

from newsletter.runtime import Runtime
from tests.analytics.clicked import clicked_issue, sent_month
from tests.smtpd import SmtpServer


def test_the_issue_page_shows_the_figures_and_draws_them(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    email, client = clicked_issue(runtime, smtp)
    page = client.get(f"/admin/issues/{email.issue_id}").text
    report = page[page.index('id="report"') :]
    mail = report[: report.index("</table>")]
    assert '<th scope="row">Delivered</th><td>1</td>' in mail
    assert '<th scope="row">Unsubscribed</th><td>1</td>' in mail
    assert '<th scope="row">Failed</th><td>0</td>' in mail
    clicks = report[report.index('id="report-clicks"') :]
    clicks = clicks[: clicks.index("</table>")]
    assert '<th scope="row">By people</th><td>4</td>' in clicks
    assert '<th scope="row">Donate, by people</th><td>1</td>' in clicks
    assert "Filtered: link scanner or security gateway</th><td>1</td>" in clicks
    assert "Filtered: hidden trap link</th><td>1</td>" in clicks
    # The bars: one per story, the tallest for the story two people clicked.
    assert "Clicks by people per story: Story 0 2, Story 1 1, Story 2 0" in report
    assert report.count("<rect ") >= 3
    assert "<polyline" in report
    # The issue's results and the issues list say what the report says.
    assert '<span id="result-bounced">0</span> bounced in the first week' in page
    listed = client.get("/admin/issues").text
    assert "0 bounced · 1 unsubscribed in the first week" in listed


def test_the_issue_csv_has_a_row_per_link_with_humans_and_machines_apart(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    email, client = clicked_issue(runtime, smtp)
    response = client.get(f"/admin/issues/{email.issue_id}/report.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_title = {row["title"]: row for row in rows}
    assert by_title["Story 0"]["human_clicks"] == "2"
    assert by_title["Story 2"]["filtered_scanner"] == "1"
    assert by_title["Trap"]["filtered_trap"] == "1"
    assert {row["delivered"] for row in rows} == {"1"}
    month = sent_month(runtime, email.issue_id)
    monthly = client.get(f"/admin/reports/{month}.csv")
    assert monthly.status_code == 200
    assert monthly.text == response.text  # the only issue of the month
    page = client.get(f"/admin/reports/{month}").text
    assert "Story 0" in page[page.index("Top stories") :]


@pytest.mark.parametrize("month", ["2026-13", "26-01", "1900-01", "x"])
def test_a_bad_month_is_not_found(runtime: Runtime, smtp: SmtpServer, month: str) -> None:
    _email, client = clicked_issue(runtime, smtp)
    assert client.get(f"/admin/reports/{month}.csv").status_code == 404


def test_an_issue_not_sent_has_no_report(runtime: Runtime, smtp: SmtpServer) -> None:
    _email, client = clicked_issue(runtime, smtp)
    assert client.get("/admin/issues/999/report.csv").status_code == 404
