"""The audience at a glance, counted from the subscribers and their recorded events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsletter.runtime import Runtime
from subscribers.lifecycle import record, transition
from subscribers.models import Cause, Status, Subscriber
from subscribers.overview import overview
from subscribers.signup import set_topics
from tests.factories import add_topics

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday
THIS_MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def _new(email: str, source: str | None = None) -> Subscriber:
    return Subscriber(email=email, name="", attributes={}, soft_bounces=0, signup_source=source)


def test_totals_weeks_topics_and_sources(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        last_week = NOW - timedelta(weeks=1)
        ana, bo, cy = (
            _new("ana@x.org", "/subscribe"),
            _new("bo@x.org", "/subscribe"),
            _new("cy@x.org"),
        )
        for person in (ana, bo, cy):
            transition(session, person, Status.PENDING, Cause.FORM, last_week)
        transition(session, ana, Status.ACTIVE, Cause.LINK, last_week)
        transition(session, bo, Status.ACTIVE, Cause.LINK, NOW)
        record(session, bo, Cause.LINK, NOW, "preferences: topics")  # not a change of state
        transition(session, bo, Status.BOUNCED, Cause.BOUNCE, NOW)
        old = _new("old@x.org")
        transition(session, old, Status.PENDING, Cause.FORM, NOW - timedelta(weeks=30))
        session.flush()
        set_topics(session, ana, {topics["asylum"].id})
    with runtime.sessions() as session:
        seen = overview(session, NOW, weeks=4)
    assert seen.by_status == {
        "pending": 2,
        "active": 1,
        "unsubscribed": 0,
        "bounced": 1,
        "complained": 0,
    }
    assert seen.weeks[-1] == THIS_MONDAY
    assert len(seen.weeks) == 4
    assert seen.per_week["signups"] == [0, 0, 3, 0]  # the one 30 weeks ago is out of range
    assert seen.per_week["confirmations"] == [0, 0, 1, 1]
    assert seen.per_week["bounces"] == [0, 0, 0, 1]
    assert seen.per_week["unsubscribes"] == [0, 0, 0, 0]
    assert seen.by_topic == {"asylum": 1, "every topic": 0}
    assert seen.by_source == [("/subscribe", 1)]
