"""How often a reader hears about each topic: chosen on the form, kept to confirmation, changed on
the preferences page; a real SMTP server and a real database."""

from __future__ import annotations

import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.runtime import Runtime
from subscribers.models import Cadence, Cause, SignupRequest, Status
from subscribers.tokens import Purpose
from tests.cadences import offering_every_cadence
from tests.smtpd import SmtpServer
from tests.web.test_subscription import (
    _active,
    _link,
    browser,
    confirm_path,
    csrf_of,
    post_signup,
    signup,
    subscriber,
)
from tests.web.test_subscription import client as client
from tests.web.test_subscription import site as site


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests choose cadences: the publisher offers every one."""
    return offering_every_cadence(settings)


def _cadences(site: Runtime, email: str) -> dict[int, Cadence]:
    stored = subscriber(site, email)
    assert stored is not None
    return {chosen.topic_id: chosen.cadence for chosen in stored.topics}


def _topic_ids(site: Runtime) -> dict[str, int]:
    from newsletter.models import Topic

    with site.sessions() as session:
        return {topic.slug: topic.id for topic in session.scalars(select(Topic))}


def test_the_form_offers_weekly_first_and_chosen(client: TestClient) -> None:
    form = lxml.html.fromstring(client.get("/subscribe").text)
    select_ = form.get_element_by_id("cadence")
    assert select_.value == "weekly"
    options = [(o.get("value"), o.text_content()) for o in select_.iter("option")]
    assert options == [
        ("weekly", "Weekly digest"),
        ("daily", "Daily digest"),
        ("each", "Each story as it is published"),
    ]
    assert form.cssselect('label[for="cadence"]')[0].text_content() == "How often"


def test_a_daily_signup_stays_daily_through_confirmation(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    post_signup(client, "ana@example.org", topics=["asylum"], cadence="daily")
    with site.sessions() as session:
        [queued] = session.scalars(select(SignupRequest))
        ids = _topic_ids(site)
        assert queued.cadences == {str(ids["asylum"]): "daily"}  # kept while it waits
    signup(client, "bo@example.org", topics=["asylum"])  # drains both
    [mail] = smtp.to("ana@example.org")
    page = client.get(confirm_path(mail.message))
    confirmed = client.post(
        "/confirm",
        data={
            "token": confirm_path(mail.message).split("token=")[1],
            "csrf_token": csrf_of(page.text),
        },
    )
    assert confirmed.status_code == 200
    stored = subscriber(site, "ana@example.org")
    assert stored is not None
    assert stored.status == Status.ACTIVE
    assert _cadences(site, "ana@example.org") == {ids["asylum"]: Cadence.DAILY}
    assert _cadences(site, "bo@example.org") == {ids["asylum"]: Cadence.WEEKLY}


def test_no_topic_ticked_with_each_story_names_every_topic(
    client: TestClient, site: Runtime
) -> None:
    signup(client, "cy@example.org", cadence="each")
    ids = _topic_ids(site)
    assert _cadences(site, "cy@example.org") == dict.fromkeys(ids.values(), Cadence.EACH)


def test_an_unknown_cadence_is_one_error_and_the_form_is_kept(
    client: TestClient, site: Runtime
) -> None:
    refused = post_signup(
        client, "dee@example.org", name="Dee", topics=["asylum"], cadence="hourly<script>"
    )
    assert refused.status_code == 422
    page = lxml.html.fromstring(refused.text)
    [alert] = page.cssselect('[role="alert"]')
    assert alert.get("id") == "cadence-error"
    assert "unknown frequency" in alert.text_content()
    assert page.get_element_by_id("cadence").get("aria-invalid") == "true"
    assert page.get_element_by_id("email").value == "dee@example.org"
    assert page.get_element_by_id("name").value == "Dee"
    assert page.get_element_by_id("topic-asylum").checked
    assert "<script>" not in refused.text
    with site.sessions() as session:
        assert session.scalars(select(SignupRequest)).all() == []


def test_the_embed_and_json_signups_carry_the_cadence(site: Runtime) -> None:
    ids = _topic_ids(site)
    own = browser(site, headers={"Origin": "https://news.example.org"})
    posted = own.post(
        "/subscribe/embed",
        data={"email": "em@example.org", "topics": ["asylum"], "cadence": "each"},
    )
    assert posted.status_code == 200, posted.text
    answered = own.post(
        "/api/subscribe",
        json={"email": "js@example.org", "topics": ["asylum"], "cadence": "daily"},
    )
    assert answered.status_code == 202, answered.text
    wrong = own.post("/api/subscribe", json={"email": "x@example.org", "cadence": "yearly"})
    assert (wrong.status_code, wrong.json()["field"]) == (422, "cadence")
    with site.sessions() as session:
        queued = {r.email: r.cadences for r in session.scalars(select(SignupRequest))}
    assert queued == {
        "em@example.org": {str(ids["asylum"]): "each"},
        "js@example.org": {str(ids["asylum"]): "daily"},
    }


def _preferences(site: Runtime, email: str) -> tuple[TestClient, str, str]:
    client = browser(site, headers={"Accept": "text/html"})
    path = _link(site, Purpose.PREFERENCES, _active(site, email), email)
    return client, path, path.split("token=")[1]


def test_preferences_change_a_topics_cadence_and_record_it(site: Runtime) -> None:
    client, path, token = _preferences(site, "rea@example.org")
    page = client.get(path)
    form = lxml.html.fromstring(page.text)
    assert form.get_element_by_id("cadence-asylum").value == "asylum:weekly"
    saved = client.post(
        "/preferences",
        data={
            "token": token,
            "csrf_token": csrf_of(page.text),
            "topics": ["asylum", "border-enforcement"],
            "cadences": ["asylum:daily", "border-enforcement:weekly"],
            "pause_weeks": "keep",
        },
    )
    assert saved.status_code == 200
    assert "Saved: how often for asylum: daily digest." in saved.text
    ids = _topic_ids(site)
    # Every topic, but one not weekly: kept by name, not as "all topics".
    assert _cadences(site, "rea@example.org") == {
        ids["asylum"]: Cadence.DAILY,
        ids["border-enforcement"]: Cadence.WEEKLY,
    }
    stored = subscriber(site, "rea@example.org")
    assert stored is not None
    last = stored.events[-1]
    assert (last.cause, last.detail) == (
        Cause.LINK,
        "preferences: how often for asylum: daily digest",
    )
    shown = lxml.html.fromstring(client.get(path).text)
    assert shown.get_element_by_id("cadence-asylum").value == "asylum:daily"
    # Back to weekly everywhere: stored as every topic again.
    back = client.post(
        "/preferences",
        data={
            "token": token,
            "csrf_token": csrf_of(saved.text),
            "topics": ["asylum", "border-enforcement"],
            "cadences": ["asylum:weekly", "border-enforcement:weekly"],
        },
    )
    assert "Saved: how often for asylum: weekly digest." in back.text
    assert _cadences(site, "rea@example.org") == {}


def test_preferences_refuse_an_unknown_cadence_and_keep_a_form_without_any(
    site: Runtime,
) -> None:
    client, path, token = _preferences(site, "sam@example.org")
    page = client.get(path)
    base = {"token": token, "csrf_token": csrf_of(page.text), "topics": ["asylum"]}
    refused = client.post("/preferences", data={**base, "cadences": ["asylum:hourly"]})
    assert refused.status_code == 422
    [alert] = lxml.html.fromstring(refused.text).cssselect('[role="alert"]')
    assert alert.text_content() == "Nothing was saved: unknown frequency 'hourly'."
    assert _cadences(site, "sam@example.org") == {}
    daily = client.post("/preferences", data={**base, "cadences": ["asylum:daily"]})
    assert daily.status_code == 200
    ids = _topic_ids(site)
    # A form from before cadences (no "cadences" field) changes topics, keeps the cadence.
    old = client.post("/preferences", data={**base, "topics": ["asylum", "border-enforcement"]})
    assert "Saved: topics." in old.text
    assert _cadences(site, "sam@example.org") == {
        ids["asylum"]: Cadence.DAILY,
        ids["border-enforcement"]: Cadence.WEEKLY,
    }
