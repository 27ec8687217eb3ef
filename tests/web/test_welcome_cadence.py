"""What readers are told they will get, once daily and per-story mail are offered: the welcome
email (through the real SMTP server), the subscribed page and the footer's link."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from newsletter.config import Settings
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.models import Cadence, SubscriberTopic
from tests.cadences import offering_every_cadence
from tests.smtpd import SmtpServer
from tests.web.test_subscription import client as client
from tests.web.test_subscription import part, subscriber
from tests.web.test_subscription import site as site
from tests.web.test_welcome import _confirmed, _welcomes


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every cadence offered, the daily digest at 6:30 (not the default, so it is read)."""
    every = offering_every_cadence(settings)
    digest = every.digest.model_copy(update={"daily_send": "06:30"})
    return every.model_copy(update={"digest": digest})


def test_the_subscribed_page_and_the_welcome_say_what_the_reader_chose(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    topics = ["asylum", "border-enforcement"]
    page = _confirmed(client, smtp, "ana@example.org", topics=topics, cadence="daily")
    said = " ".join(page.split())
    assert "as you chose. Asylum, Border Enforcement: a daily digest at 6:30." in said
    assert "next weekly issue" not in said
    # Changed since (as on the preferences page): the welcome reads the choice when it is sent.
    person = subscriber(site, "ana@example.org")
    assert person is not None
    with site.sessions.begin() as session:
        border = session.query(Topic).filter_by(slug="border-enforcement").one()
        session.execute(
            update(SubscriberTopic)
            .where(SubscriberTopic.subscriber_id == person.id)
            .where(SubscriberTopic.topic_id == border.id)
            .values(cadence=Cadence.EACH)
        )
    _welcomes(site)
    message = smtp.to("ana@example.org")[-1].message
    expected = "Asylum: a daily digest at 6:30; Border Enforcement: each story as it is published."
    for kind in ("plain", "html"):
        words = " ".join(part(message, kind).split())
        assert expected in words, kind
        assert "one email a week" not in words


def test_a_weekly_reader_keeps_the_weekly_wording_beside_other_cadences(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    page = _confirmed(client, smtp, "wes@example.org", topics=["asylum"], cadence="weekly")
    assert "Your next email comes with the next weekly issue." in page
    _welcomes(site)
    text = " ".join(part(smtp.to("wes@example.org")[-1].message, "plain").split())
    assert "You will get one email a week with our new stories on Asylum." in text


def test_the_footer_and_signup_text_name_every_cadence_offered(client: TestClient) -> None:
    home = client.get("/").text
    assert ">Subscribe by email</a>" in home
    assert "The weekly email" not in home
    offered = "once a week, once a day, or each as it is published."
    assert f"Our new stories on the topics you choose: {offered}" in home
    assert f"and any other topic you choose: {offered}" in client.get("/topics/asylum").text
