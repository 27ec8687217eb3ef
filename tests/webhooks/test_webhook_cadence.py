"""A subscriber event's payload says how often the subscriber hears about each topic."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from newsletter.config import Settings
from newsletter.pipeline.outbound_webhooks import run_webhooks
from newsletter.runtime import Runtime
from subscribers import operator
from subscribers.models import Cadence
from tests import factories
from tests.cadences import offering_every_cadence
from tests.webhooks.test_webhooks import Receiver, _endpoint, _site
from tests.webhooks.test_webhooks import receiver as receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests choose cadences: the publisher offers every one."""
    return offering_every_cadence(settings)


def test_the_created_event_lists_topics_with_their_cadence(
    runtime: Runtime, receiver: Receiver
) -> None:
    site = _site(runtime)
    now = site.clock.now()
    _, secret = _endpoint(site, receiver.url, ["subscriber.created"])
    with site.sessions.begin() as session:
        topics = factories.add_topics(session, site.settings, now)
        asylum, border = topics["asylum"].id, topics["border-enforcement"].id
        operator.add(
            session,
            "ana@example.org",
            "",
            frozenset({asylum, border}),
            now,
            confirmed=False,
            cadences={asylum: Cadence.EACH},
        )
    assert run_webhooks(site) == "queued 1 events; delivered 1, 0 attempts failed"
    [(headers, body)] = receiver.got
    data = Webhook(secret).verify(body, headers)["data"]
    assert data["topics"] == ["asylum", "border-enforcement"]
    assert data["cadences"] == {"asylum": "each", "border-enforcement": "weekly"}
