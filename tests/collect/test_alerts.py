"""Editors are emailed once when a source gets into trouble, once when it is over, and once per
paused send; a mail that could not go out is tried again on the next run."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from typing import Any

from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.editors.models import Role
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Issue, IssueStatus, PostSource, Source
from newsletter.pipeline import due
from newsletter.pipeline.alerts import source_trouble, tell_paused, tell_source_alerts
from newsletter.pipeline.publishing import collect_and_publish
from tests import factories
from tests.collect.conftest import NOW
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import make_editor


def _bodies(smtp: SmtpServer) -> list[tuple[str, str]]:
    found = []
    for received in smtp.received:
        message = BytesParser(policy=policy.default).parsebytes(received.data)
        body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found.append((str(message["Subject"]), " ".join(body.split())))
    return found


def test_a_failing_source_is_told_once_then_its_recovery_once(
    make_runtime: Any, site: str, smtp: SmtpServer
) -> None:
    runtime = make_runtime(
        [{"name": "site-feed", "kind": "feed", "url": f"{site}/missing.xml"}],
        # The demo posts are years old: quiet by any usual interval but a huge one.
        collect={"alert_after_failures": 2, "retries": 0, "alert_quiet_factor": 10_000},
        smtp_url=smtp.url,
    )
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    for run in range(3):
        collect_and_publish(runtime)  # the scheduler's and `newsletter collect`'s join
        assert len(smtp.received) == (0 if run == 0 else 1), run  # told at 2, not again at 3
    with runtime.sessions.begin() as session:
        source = session.scalars(select(Source)).one()
        assert source.failures_in_row == 3
        assert (source.runs_total, source.errors_total) == (3, 3)  # /metrics' counters
        assert source.alert is not None
        source.url = f"{site}/feed.xml"  # fixed at the source
    collect_and_publish(runtime)
    with runtime.sessions() as session:
        source = session.scalars(select(Source)).one()
        assert (source.failures_in_row, source.runs_total, source.errors_total) == (0, 4, 3)
    assert tell_source_alerts(runtime) == []  # already told, by the run
    assert len(smtp.received) == 2
    (trouble_subject, trouble), (well_subject, well) = _bodies(smtp)
    assert trouble_subject.endswith("Source site-feed: failed 2 runs in a row")
    assert "HTTP 404" in trouble
    assert "https://news.example.org/admin/sources/" in trouble
    assert well_subject.endswith("Source site-feed is well again")
    assert "new " in well


def test_a_quiet_source_is_judged_by_its_usual_interval(make_runtime: Any) -> None:
    runtime = make_runtime([{"name": "feed", "kind": "feed", "url": "https://a.example.org/"}])
    with runtime.sessions.begin() as session:
        source = session.scalars(select(Source)).one()
        topics = factories.add_topics(session, runtime.settings, NOW)
        for day in range(6):  # one post a day, the last ten days ago
            post = factories.add_post(
                session, f"p{day}", NOW - timedelta(days=10 + day), [topics["asylum"]]
            )
            session.add(
                PostSource(
                    post_id=post.id,
                    source_id=source.id,
                    version_hash="v",
                    first_seen_at=NOW,
                    last_seen_at=NOW,
                )
            )
        session.flush()
        assert source_trouble(session, runtime.settings, source, NOW) == (
            "quiet: no new post for 10 days, where it usually brings one every 24 hours"
        )
        # Two and a half days of quiet is within three times its usual day.
        assert source_trouble(session, runtime.settings, source, NOW - timedelta(days=7.5)) is None


def test_a_source_is_never_quiet_within_a_day(make_runtime: Any) -> None:
    runtime = make_runtime([{"name": "feed", "kind": "feed", "url": "https://a.example.org/"}])
    with runtime.sessions.begin() as session:
        source = session.scalars(select(Source)).one()
        topics = factories.add_topics(session, runtime.settings, NOW)
        for n in range(6):  # a burst: a post every five minutes, the last three hours ago
            post = factories.add_post(
                session, f"p{n}", NOW - timedelta(hours=3, minutes=5 * n), [topics["asylum"]]
            )
            session.add(
                PostSource(
                    post_id=post.id,
                    source_id=source.id,
                    version_hash="v",
                    first_seen_at=NOW,
                    last_seen_at=NOW,
                )
            )
        session.flush()
        assert source_trouble(session, runtime.settings, source, NOW) is None
        later = NOW + timedelta(days=1)
        assert source_trouble(session, runtime.settings, source, later) == (
            "quiet: no new post for 27 hours, where it usually brings one every 5 minutes"
        )


def test_a_paused_send_is_told_once_with_its_reason(runtime: Any, smtp: SmtpServer) -> None:
    runtime.clock = FixedClock(NOW)
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    with runtime.sessions.begin() as session:
        issue = factories.issue(NOW, subject="This week")
        issue.status = IssueStatus.PAUSED
        issue.status_reason = "relay refused: 550 sender rejected"
        session.add(issue)
    mail = lambda: SmtpTransport.from_url(smtp.url, timeout=5)  # noqa: E731
    unreachable = lambda: SmtpTransport.from_url("smtp://127.0.0.1:9", timeout=2)  # noqa: E731
    assert "editors not told: " in tell_paused(runtime, unreachable)[0]  # tried again below
    line = due.send_due(runtime, mail, threading.Event())  # the scheduler's send job tells
    assert line.endswith("told 1 editor"), line
    assert tell_paused(runtime, mail) == []
    [(subject, body)] = _bodies(smtp)
    assert "paused: relay refused" in subject
    assert "550 sender rejected" in body
    with runtime.sessions.begin() as session:  # paused again later: told again
        issue = session.scalars(select(Issue)).one()
        issue.updated_at = NOW + timedelta(hours=1)
    assert len(tell_paused(runtime, mail)) == 1
