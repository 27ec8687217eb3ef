"""The sent issue's report: deliveries, exits, human clicks drawn, machines apart; CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from newsletter.web.clicks import desk_of
from subscribers.lifecycle import transition
from subscribers.models import Cause, Status, Subscriber
from tests.analytics.delivered import Delivered, deliver_issue
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import make_editor, sign_in

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"


def clicked_issue(runtime: Runtime, smtp: SmtpServer) -> tuple[Delivered, TestClient]:
    """A delivered issue with two human clicks, a donate click, a scanner's and the trap's;
    the reader unsubscribes an hour after the send."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    runtime.clock = clock
    email = deliver_issue(runtime, smtp, stories=3)
    client = TestClient(create_app(runtime), base_url="https://news.example.org")
    stories = email.of_kind(runtime, "story")
    clock.advance(timedelta(hours=1))
    for link, agent in [(stories[0], PHONE), (stories[0], DESKTOP), (stories[1], PHONE)]:
        assert client.get(link, headers={"User-Agent": agent}, follow_redirects=False).is_redirect
    donate = email.of_kind(runtime, "donate")[0]
    client.get(donate, headers={"User-Agent": DESKTOP}, follow_redirects=False)
    client.get(stories[2], headers={"User-Agent": "Barracuda/1"}, follow_redirects=False)
    trap = email.of_kind(runtime, "trap")[0]
    client.get(trap, headers={"User-Agent": "Mozilla/5.0 sandbox"}, follow_redirects=False)
    desk_of(client.app).flusher.flush(everything=True)  # type: ignore[arg-type]
    with runtime.sessions.begin() as session:
        reader = session.get(Subscriber, email.subscriber_id)
        assert reader is not None
        transition(session, reader, Status.UNSUBSCRIBED, Cause.LINK, clock.now())
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    sign_in(client, "ed@example.org")
    return email, client


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
    month = runtime.clock.now().astimezone(runtime.settings.zone).strftime("%Y-%m")
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
