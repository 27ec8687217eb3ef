"""A reader's whole way in chromium, at a phone's width and a desktop's: home, a topic, signup
with the topic chosen, confirm, the welcome email, preferences, pause, unsubscribe and undo."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.models import Status, Subscriber
from tests import factories
from tests.smtpd import SmtpServer
from tests.web.axe import violations
from tests.web.live import (  # noqa: F401 (browser is a fixture)
    browser,
    free_port,
    live_server,
    runtime_at,
    settings_at,
)
from tests.web.test_public_browser import SHOTS

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
STORIES = [
    ("beyond-a-border-solution", "Beyond A Border Solution", "border-enforcement"),
    ("asylum-backlog-explained", "The Asylum Backlog, Explained", "asylum"),
    ("families-at-the-border", "Families at the Border: What the Data Show", "border-enforcement"),
    ("court-rules-on-asylum-bans", "Court Rules on the Asylum Ban", "asylum"),
]


def seed_stories(runtime: Runtime) -> None:
    """The newsroom's recent stories, the newest a day before NOW."""
    from sqlalchemy import select

    with runtime.sessions.begin() as session:
        topics = {t.slug: t for t in session.scalars(select(Topic))}
        for number, (slug, title, topic) in enumerate(STORIES):
            factories.add_post(
                session, slug, NOW - timedelta(days=1 + number), [topics[topic]], title=title
            )


@pytest.fixture
def site(settings: Settings, smtp: SmtpServer) -> Iterator[tuple[Runtime, str]]:
    port = free_port()
    wired = settings_at(settings, f"http://127.0.0.1:{port}").model_copy(
        update={"smtp_url": smtp.url}
    )
    runtime = runtime_at(wired, FixedClock(NOW))
    seed_stories(runtime)
    try:
        with live_server(runtime, port) as base:
            yield runtime, base
    finally:
        runtime.close()


def _mail(smtp: SmtpServer, address: str, count: int) -> Any:
    deadline = time.monotonic() + 20  # a hang guard only: the sender is a background thread
    while len(smtp.to(address)) < count:
        assert time.monotonic() < deadline, f"mail {count} to {address} never came"
        time.sleep(0.05)
    return smtp.to(address)[count - 1].message


def _link_in(message: Any, path: str) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
            found = re.search(rf"https?://\S+{re.escape(path)}\?token=\S+", text)
            if found:
                return found.group(0)
    raise AssertionError(f"no {path} link in the mail")


@pytest.mark.parametrize("width", [375, 1280])
def test_a_reader_from_the_home_page_to_undoing_an_unsubscribe(
    site: tuple[Runtime, str],
    smtp: SmtpServer,
    browser: Any,  # noqa: F811 (the fixture)
    width: int,
) -> None:
    runtime, base = site
    email = f"reader-{width}@example.org"
    tab = browser.new_page(viewport={"width": width, "height": 900})
    found: list[str] = []

    def look(name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / f"walk-{name}-{width}.png"), full_page=True)
        found.extend(f"{name}: {v}" for v in violations(tab))

    tab.goto(base + "/")
    assert tab.get_by_role("link", name="The Asylum Backlog, Explained").is_visible()
    look("home")
    tab.get_by_role("main").get_by_role("link", name="Asylum", exact=True).click()
    assert tab.url == base + "/topics/asylum"
    look("topic")
    # The topic is chosen already; the reader only types the address.
    assert tab.get_by_role("checkbox", name="Asylum").is_checked()
    assert not tab.get_by_role("checkbox", name="Border Enforcement").is_checked()
    tab.get_by_label("Email address").fill(email)
    tab.get_by_role("button", name="Subscribe").click()
    assert tab.get_by_role("heading", name="Check your inbox").is_visible()
    look("signed-up")

    tab.goto(_link_in(_mail(smtp, email, 1), "/confirm"))
    look("confirm")
    tab.get_by_role("button", name="Confirm my subscription").click()
    assert tab.get_by_role("heading", name="You are subscribed").is_visible()
    welcome = _mail(smtp, email, 2)
    assert welcome["Subject"] == "Welcome to Example Council News"
    with runtime.sessions() as session:
        from sqlalchemy import select

        reader = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert reader is not None
        assert reader.signup_source == "/topics/asylum"
        assert [t.topic_id for t in reader.topics] != []

    tab.goto(_link_in(welcome, "/preferences"))
    look("preferences")
    tab.get_by_label("Pause").select_option("2")
    tab.get_by_role("button", name="Save").click()
    assert tab.get_by_role("status").inner_text().startswith("Saved: paused for 2 weeks")
    look("paused")

    tab.goto(_link_in(welcome, "/unsubscribe"))
    tab.get_by_role("button", name="Unsubscribe").click()
    assert tab.get_by_role("heading", name="You are unsubscribed").is_visible()
    look("unsubscribed")
    tab.get_by_role("button", name="Undo: keep me subscribed").click()
    assert tab.get_by_role("heading", name="You are subscribed again").is_visible()
    with runtime.sessions() as session:
        back = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert back is not None
        assert back.status == Status.ACTIVE
    assert found == [], "\n".join(found)
