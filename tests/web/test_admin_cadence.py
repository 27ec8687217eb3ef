"""The admin shows how often readers hear about each topic: the split on the audience page, and
each topic's cadence on a subscriber's page."""

from __future__ import annotations

import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.manage import confirm
from subscribers.models import Cadence, Subscriber
from subscribers.overview import overview
from subscribers.signup import signup
from tests.cadences import offering_every_cadence
from tests.web.test_admin_subscribers import publisher as publisher
from tests.web.test_subscription import NOW
from tests.web.test_subscription import site as site


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests choose cadences: the publisher offers every one."""
    return offering_every_cadence(settings)


def _readers(site: Runtime) -> dict[str, int]:
    """Active: two daily and one weekly on asylum, one on every topic; one pending, daily."""
    with site.sessions.begin() as session:
        ids = {t.slug: t.id for t in session.scalars(select(Topic))}
        asylum, border = ids["asylum"], ids["border-enforcement"]
        people = {
            "a@example.org": ({asylum, border}, {asylum: Cadence.DAILY, border: Cadence.EACH}),
            "b@example.org": ({asylum}, {asylum: Cadence.DAILY}),
            "c@example.org": ({asylum}, {}),
            "d@example.org": (set(), {}),
            "pending@example.org": ({asylum}, {asylum: Cadence.DAILY}),
        }
        made = {}
        for email, (topics, cadences) in people.items():
            outcome = signup(session, email, "", topics, NOW, cadences=cadences)
            made[email] = outcome.subscriber_id
            if email != "pending@example.org":
                person = session.get(Subscriber, outcome.subscriber_id)
                assert person is not None
                confirm(session, person, NOW)
        return made


def test_the_overview_splits_each_topic_by_cadence(site: Runtime) -> None:
    _readers(site)
    with site.sessions() as session:
        seen = overview(session, NOW)
    assert seen.by_cadence == {
        "asylum": {Cadence.WEEKLY: 1, Cadence.DAILY: 2, Cadence.EACH: 0},
        "border-enforcement": {Cadence.WEEKLY: 0, Cadence.DAILY: 0, Cadence.EACH: 1},
        "every topic": {Cadence.WEEKLY: 1, Cadence.DAILY: 0, Cadence.EACH: 0},
    }
    assert seen.by_topic == {"asylum": 3, "border-enforcement": 1, "every topic": 1}


def test_the_audience_page_draws_the_split_beside_its_numbers(
    site: Runtime, publisher: TestClient
) -> None:
    _readers(site)
    page = lxml.html.fromstring(publisher.get("/admin/audience").text)
    [table] = page.cssselect("table.cadence-split")
    heads = [th.text_content() for th in table.cssselect("thead th")]
    assert heads[:5] == [
        "Topic",
        "All",
        "Weekly digest",
        "Daily digest",
        "Each story as it is published",
    ]
    [asylum] = table.cssselect('tr[data-topic="asylum"]')
    cells = [td.text_content() for td in asylum.cssselect("td[data-cadence]")]
    assert cells == ["1", "2", "0"]
    widths = [span.get("style") for span in asylum.cssselect(".stack span")]
    assert widths == ["width: 33.3%", "width: 66.7%"]  # the empty cadence draws nothing
    assert asylum.cssselect(".stack")[0].get("aria-hidden") == "true"


def test_a_subscribers_page_says_each_topics_cadence(site: Runtime, publisher: TestClient) -> None:
    made = _readers(site)
    page = lxml.html.fromstring(publisher.get(f"/admin/subscribers/{made['a@example.org']}").text)
    shown = [li.text_content() for li in page.cssselect("#topic-cadences li")]
    assert shown == ["asylum: Daily digest", "border-enforcement: Each story as it is published"]
    everyone = publisher.get(f"/admin/subscribers/{made['d@example.org']}").text
    assert "every topic: Weekly digest" in everyone
