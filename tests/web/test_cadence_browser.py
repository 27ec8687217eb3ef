"""In chromium: a reader signs up for the daily digest, then changes a topic's cadence on the
preferences page; both pages (and the form's error) pass axe at 375 and 1280 px."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.models import Cadence, Subscriber
from subscribers.tokens import Purpose
from tests.cadences import offering_every_cadence
from tests.smtpd import SmtpServer
from tests.web.live import (  # noqa: F401 (browser is a fixture)
    browser,
    free_port,
    live_server,
    runtime_at,
    settings_at,
)
from tests.web.test_public_browser import NOW, _check, _link, _reader


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests choose cadences: the publisher offers every one."""
    return offering_every_cadence(settings)


@pytest.fixture
def served(settings: Settings, smtp: SmtpServer) -> Iterator[tuple[Runtime, str]]:
    port = free_port()
    wired = settings_at(settings, f"http://127.0.0.1:{port}").model_copy(
        update={"smtp_url": smtp.url}
    )
    runtime = runtime_at(wired, FixedClock(NOW))
    try:
        with live_server(runtime, port) as base:
            yield runtime, base
    finally:
        runtime.close()


def _cadences(runtime: Runtime, email: str) -> dict[str, Cadence] | None:
    with runtime.sessions() as session:
        person = session.scalar(select(Subscriber).where(Subscriber.email == email))
        if person is None:
            return None
        slugs = {topic.id: topic.slug for topic in session.scalars(select(Topic))}
        return {slugs[chosen.topic_id]: chosen.cadence for chosen in person.topics}


def _stored(runtime: Runtime, email: str) -> dict[str, Cadence]:
    """The background sender stores the signup a moment after the page answers."""
    deadline = time.monotonic() + 20
    while (found := _cadences(runtime, email)) is None:
        assert time.monotonic() < deadline, "the signup was not stored within 20 s"
        time.sleep(0.1)
    return found


def test_signup_daily_then_change_it_on_preferences(
    served: tuple[Runtime, str],
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    runtime, base = served
    tab = browser.new_page()
    found: list[str] = []
    tab.goto(f"{base}/subscribe")
    found += _check(tab, "cadence-subscribe")
    # Hostile: a value the menu does not offer is one error tied to the menu, the form kept.
    tab.get_by_label("Email address").fill("ana@example.org")
    tab.get_by_label("Asylum").check()
    tab.evaluate(
        "document.querySelector('#cadence').add(new Option('Hourly', 'hourly', true, true))"
    )
    tab.get_by_role("button", name="Subscribe").click()
    assert tab.get_by_role("alert").inner_text() == "unknown frequency 'hourly'"
    assert tab.get_by_label("Email address").input_value() == "ana@example.org"
    assert tab.get_by_label("Asylum").is_checked()
    found += _check(tab, "cadence-subscribe-error")
    tab.get_by_label("How often").select_option(label="Daily digest")
    tab.get_by_role("button", name="Subscribe").click()
    assert tab.get_by_role("heading", name="Check your inbox").is_visible()
    assert _stored(runtime, "ana@example.org") == {"asylum": Cadence.DAILY}
    # Confirmed: the page says what she chose, not "the next weekly issue".
    with runtime.sessions() as session:
        ana = session.scalar(select(Subscriber.id).where(Subscriber.email == "ana@example.org"))
    assert ana is not None
    tab.goto(_link(runtime, base, Purpose.CONFIRM, ana, "ana@example.org", NOW))
    tab.get_by_role("button", name="Confirm my subscription").click()
    said = tab.locator("main p").first.inner_text()
    assert (
        said
        == "Thank you. You will get our new stories as you chose. Asylum: a daily digest at 7:00."
    )
    assert tab.get_by_role("link", name="Subscribe by email").is_visible()
    found += _check(tab, "cadence-confirmed")

    reader = _reader(runtime, "bo@example.org", active=True)
    tab.goto(_link(runtime, base, Purpose.PREFERENCES, reader, "bo@example.org", NOW))
    found += _check(tab, "cadence-preferences")
    tab.get_by_label("How often: Asylum").select_option(label="Each story as it is published")
    tab.get_by_role("button", name="Save").click()
    assert (
        tab.get_by_role("status").inner_text()
        == "Saved: how often for asylum: each story as it is published."
    )
    assert tab.get_by_label("How often: Asylum").input_value() == "asylum:each"
    found += _check(tab, "cadence-preferences-saved")
    assert _cadences(runtime, "bo@example.org") == {
        "asylum": Cadence.EACH,
        "border-enforcement": Cadence.WEEKLY,
    }
    assert found == [], "\n".join(found)
