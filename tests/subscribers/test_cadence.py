"""Cadences per topic: stored with the choice, read from forms, the API and CSV, exported back."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.cadences import (
    by_slug,
    for_request,
    from_request,
    offered,
    pairs,
    parse_cadence,
)
from subscribers.csv_export import export_csv
from subscribers.csv_import import import_csv
from subscribers.errors import UnknownCadence, UnknownTopic
from subscribers.models import CADENCE_LABELS, Cadence, Subscriber
from subscribers.signup import set_topics, signup
from subscribers.topics import Topics
from tests.cadences import offering_every_cadence


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests choose cadences: the publisher offers every one."""
    return offering_every_cadence(settings)


NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
TOPICS = Topics({"asylum": 1, "border": 2})
EVERY = tuple(Cadence)


def test_every_cadence_has_a_label_for_people() -> None:
    assert [Cadence(c).label for c in ("weekly", "daily", "each")] == [
        "Weekly digest",
        "Daily digest",
        "Each story as it is published",
    ]
    assert set(CADENCE_LABELS) == set(Cadence)


@pytest.mark.parametrize("value", ["hourly", "WEEKLY ", "", "  "])
def test_parse_cadence(value: str) -> None:
    if value.strip().lower() in ("", "weekly"):
        assert parse_cadence(value, EVERY) == Cadence.WEEKLY
    else:
        with pytest.raises(UnknownCadence):
            parse_cadence(value, EVERY)


def test_a_cadence_the_publisher_does_not_offer_is_refused_not_stored(runtime: Runtime) -> None:
    weekly_only = offered(["weekly"])
    assert weekly_only == (Cadence.WEEKLY,)
    assert offered(["each", "weekly", "daily"]) == EVERY  # in the forms' order
    assert runtime.cadences == EVERY  # this module's settings offer every one
    assert parse_cadence("weekly", weekly_only) == Cadence.WEEKLY
    with pytest.raises(UnknownCadence, match="not offered here: 'daily'"):
        parse_cadence("daily", weekly_only)
    with pytest.raises(UnknownCadence):
        pairs(TOPICS, ["asylum:each"], weekly_only)


def test_form_pairs_and_the_pending_signups_json() -> None:
    chosen = pairs(TOPICS, ["asylum:daily", "border:weekly"], EVERY)
    assert chosen == {1: Cadence.DAILY, 2: Cadence.WEEKLY}
    assert for_request(chosen) == {"1": "daily"}  # weekly is not stored: missing means weekly
    assert for_request({2: Cadence.WEEKLY}) is None
    assert from_request({"1": "daily"}) == {1: Cadence.DAILY}
    # Hand-edited or hostile JSON is read as weekly, never an error at send time.
    assert from_request({"x": "daily", "2": "hourly", "3": ["each"]}) == {}  # type: ignore[dict-item]
    assert from_request(None) == {}
    with pytest.raises(UnknownCadence):
        pairs(TOPICS, ["asylum:yearly"], EVERY)
    with pytest.raises(UnknownCadence):
        pairs(TOPICS, ["asylum"], EVERY)  # a select always sends slug:cadence
    with pytest.raises(UnknownTopic):
        by_slug(TOPICS, {"astrology": "daily"}, EVERY)


@pytest.fixture
def topics(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions.begin() as session:
        session.add_all([Topic(slug="asylum", name="Asylum"), Topic(slug="border", name="Border")])
        session.flush()
        return {t.slug: t.id for t in session.scalars(select(Topic))}


def test_set_topics_keeps_or_sets_cadences(runtime: Runtime, topics: dict[str, int]) -> None:
    asylum, border = topics["asylum"], topics["border"]
    with runtime.sessions.begin() as session:
        made = signup(
            session, "ana@example.org", "", {asylum}, NOW, cadences={asylum: Cadence.EACH}
        )
        person = session.get(Subscriber, made.subscriber_id)
        assert person is not None
        assert {t.topic_id: t.cadence for t in person.topics} == {asylum: Cadence.EACH}
        # Without cadences (a caller that knows only slugs): kept topics keep theirs.
        assert set_topics(session, person, {asylum, border})
        assert {t.topic_id: t.cadence for t in person.topics} == {
            asylum: Cadence.EACH,
            border: Cadence.WEEKLY,
        }
        assert not set_topics(session, person, {asylum, border})
        # With them: missing means weekly.
        assert set_topics(session, person, {asylum, border}, {border: Cadence.DAILY})
        assert {t.topic_id: t.cadence for t in person.topics} == {
            asylum: Cadence.WEEKLY,
            border: Cadence.DAILY,
        }
    with runtime.sessions() as session:
        stored = session.scalar(select(Subscriber))
        assert stored is not None
        assert sorted((t.topic_id, t.cadence) for t in stored.topics) == [
            (asylum, Cadence.WEEKLY),
            (border, Cadence.DAILY),
        ]


def _import(runtime: Runtime, data: bytes):  # type: ignore[no-untyped-def]
    return import_csv(
        runtime.sessions,
        io.BytesIO(data),
        NOW,
        confirmed=True,
        source="list.csv",
        batch=2,
        offer=runtime.cadences,
    )


def test_csv_says_a_cadence_other_than_weekly_and_imports_it_back(
    runtime: Runtime, topics: dict[str, int]
) -> None:
    data = (
        b"email,name,topics\n"
        b"ana@example.org,Ana,asylum:daily;border\n"
        b"bo@example.org,Bo,border:EACH\n"
        b"cy@example.org,Cy,\n"
        b"dee@example.org,Dee,asylum:hourly\n"
    )
    report = _import(runtime, data)
    assert report.imported == 3
    [(line, _, reason)] = report.rejected
    assert (line, reason) == (
        5,
        "unknown frequency 'hourly' for topic 'asylum' (weekly, daily, each)",
    )
    out = io.StringIO()
    with runtime.sessions() as session:
        export_csv(session, out)
    rows = [line.split(",")[:3] for line in out.getvalue().splitlines()[1:]]
    assert rows == [
        ["ana@example.org", "Ana", "asylum:daily;border"],  # weekly says nothing, as before
        ["bo@example.org", "Bo", "border:each"],
        ["cy@example.org", "Cy", ""],
    ]
    # Into an empty list: the same cadences.
    with runtime.sessions.begin() as session:
        for person in session.scalars(select(Subscriber)):
            session.delete(person)
    assert _import(runtime, out.getvalue().encode()).imported == 3
    with runtime.sessions() as session:
        back = {
            (p.email, t.topic_id, t.cadence)
            for p in session.scalars(select(Subscriber))
            for t in p.topics
        }
    assert back == {
        ("ana@example.org", topics["asylum"], Cadence.DAILY),
        ("ana@example.org", topics["border"], Cadence.WEEKLY),
        ("bo@example.org", topics["border"], Cadence.EACH),
    }


def test_a_list_may_only_choose_what_the_publisher_offers(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.add(Topic(slug="asylum", name="Asylum"))
    report = import_csv(
        runtime.sessions,
        io.BytesIO(b"email,topics\nana@example.org,asylum:daily\nbo@example.org,asylum\n"),
        NOW,
        confirmed=True,
        offer=offered(["weekly"]),
    )
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "frequency not offered here: 'daily' for topic 'asylum' (weekly)")
    ]
    assert report.imported == 1
