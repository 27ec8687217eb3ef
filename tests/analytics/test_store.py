"""Writing a batch of clicks: one hourly row per link, variant, hour and verdict."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from newsletter.analytics.behaviour import Hit
from newsletter.analytics.models import ClickCount
from newsletter.analytics.store import hour_of, write_hits
from newsletter.runtime import Runtime
from tests.analytics.issue import mailed_issue


def test_a_batch_across_the_hour_is_counted_in_each_hour(runtime: Runtime) -> None:
    issue_id = mailed_issue(runtime).issue_id
    start = hour_of(runtime.clock.now()) + timedelta(minutes=59, seconds=58)
    moments = [start + timedelta(seconds=n) for n in range(4)]  # :59:58, :59:59, :00:00, :00:01
    hits = [Hit(issue_id, 0, 0, at, "human") for at in moments]
    hits.append(Hit(issue_id, 0, 0, moments[0], "scanner"))  # the same moment, another verdict
    hits.append(Hit(issue_id + 1000, 0, 0, moments[0], "human"))  # an issue deleted since
    with runtime.sessions.begin() as session:
        write_hits(session, hits)
    with runtime.sessions() as session:
        rows = {(row.hour, row.verdict): row.clicks for row in session.scalars(select(ClickCount))}
    first, second = hour_of(moments[0]), hour_of(moments[2])
    assert second - first == timedelta(hours=1)
    assert {(hour.replace(tzinfo=None), verdict): n for (hour, verdict), n in rows.items()} == {
        (first.replace(tzinfo=None), "human"): 2,
        (first.replace(tzinfo=None), "scanner"): 1,
        (second.replace(tzinfo=None), "human"): 2,
    }
