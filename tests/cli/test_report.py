"""`newsletter report`: the issue page's figures as lines, and as CSV."""

from __future__ import annotations

import csv
import io

from newsletter.runtime import Runtime
from tests.analytics.clicked import clicked_issue, sent_month
from tests.cli.process import run, service_env
from tests.smtpd import SmtpServer


def test_report_prints_the_latest_sent_issue(runtime: Runtime, smtp: SmtpServer) -> None:
    email, _client = clicked_issue(runtime, smtp)
    env = service_env(runtime, smtp.url)
    done = run("report", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("issue 2")
    assert f"(id {email.issue_id}," in lines[0]
    assert "delivered 1, failed 0, bounced 0, unsubscribed 1, complained 0" in lines[1]
    assert "clicks by people 4; filtered: prefetch 0, scanner 1, burst 0, trap 1" in lines[2]
    assert "donate clicks by people 1" in lines[3]
    assert any(line.split() == ["2", "Story", "0", "(filtered", "0)"] for line in lines)
    as_csv = run("report", str(email.issue_id), "--csv", env=env)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {row["title"]: row["human_clicks"] for row in rows}["Story 0"] == "2"
    month = sent_month(runtime, email.issue_id)
    monthly = run("report", "--month", month, env=env)
    assert "top stories of" in monthly.stdout
    assert "Story 0" in monthly.stdout.split("top stories of", 1)[1]


def test_report_errors_are_one_line(runtime: Runtime, smtp: SmtpServer) -> None:
    env = service_env(runtime, smtp.url)
    for args in (["report"], ["report", "42"], ["report", "--month", "2026-13"]):
        done = run(*args, env=env)
        assert done.returncode != 0
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("error: ")
