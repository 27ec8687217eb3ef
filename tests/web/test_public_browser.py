"""Every public page in chromium at a phone's and a desktop's width: no axe-core violation.

Screenshots land in test-artifacts/pages/ for people to look at (not compared: looks change).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.digest.build import build_issue
from newsletter.models import Issue, IssueStatus, Topic
from newsletter.runtime import Runtime
from newsletter.templating import environment
from newsletter.welcome import Latest
from subscribers.links import link
from subscribers.manage import confirm
from subscribers.models import Subscriber
from subscribers.signup import signup
from subscribers.tokens import Purpose
from tests import factories
from tests.web.axe import violations
from tests.web.live import (  # noqa: F401 (browser is a fixture)
    browser,
    free_port,
    live_server,
    runtime_at,
    settings_at,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"
DIGESTS = Path(__file__).resolve().parents[1] / "digest" / "data"
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[Runtime, str]]:
    port = free_port()
    runtime = runtime_at(settings_at(settings, f"http://127.0.0.1:{port}"), FixedClock(NOW))
    try:
        with live_server(runtime, port) as base:
            yield runtime, base
    finally:
        runtime.close()


def _sent_issue(runtime: Runtime) -> str:
    """Last week's issue, sent, with two stories: the archive's web version has content."""
    with runtime.sessions.begin() as session:
        asylum = session.scalars(select(Topic).where(Topic.slug == "asylum")).one()
        for day, slug in ((2, "asylum-backlog-explained"), (3, "court-rules-on-the-ban")):
            factories.add_post(session, slug, NOW - timedelta(days=day), [asylum])
        key = build_issue(session, runtime.settings, NOW).key
        issue = session.scalars(select(Issue).where(Issue.key == key)).one()
        issue.status, issue.sent_at = IssueStatus.SENT, NOW
        return key


def _reader(runtime: Runtime, email: str, active: bool) -> int:
    with runtime.sessions.begin() as session:
        outcome = signup(session, email, "", set(), NOW)
        if active:
            found = session.get(Subscriber, outcome.subscriber_id)
            assert found is not None
            confirm(session, found, NOW)
        return outcome.subscriber_id


def _link(runtime: Runtime, base: str, purpose: Purpose, who: int, email: str, at: datetime) -> str:
    return link(base, runtime.signing_key, purpose, who, email, at)


def _check(tab: Any, name: str) -> list[str]:
    """axe on the page at each width, and a screenshot of each for people to look at."""
    found = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        tab.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        found += [f"{name} at {width}px: {v}" for v in violations(tab)]
    return found


def test_every_public_page_passes_axe_at_375_and_1280(
    served: tuple[Runtime, str],
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    runtime, base = served
    pending = _reader(runtime, "pending@example.org", active=False)
    active = _reader(runtime, "active@example.org", active=True)
    leaving = _reader(runtime, "leaving@example.org", active=True)
    key = _sent_issue(runtime)
    tab = browser.new_page()
    found: list[str] = []
    pages = {
        "issue": f"{base}/archive/{key}",
        "home": f"{base}/",
        "subscribe": f"{base}/subscribe",
        "archive": f"{base}/archive",
        "topic": f"{base}/topics/asylum",
        "not-found": f"{base}/no-such-page",
        "confirm": _link(runtime, base, Purpose.CONFIRM, pending, "pending@example.org", NOW),
        "preferences": _link(runtime, base, Purpose.PREFERENCES, active, "active@example.org", NOW),
        "unsubscribe": _link(runtime, base, Purpose.UNSUBSCRIBE, active, "active@example.org", NOW),
        "bad-link": _link(runtime, base, Purpose.UNSUBSCRIBE, active, "active@example.org", NOW)
        + "x",
        "expired-link": _link(
            runtime,
            base,
            Purpose.PREFERENCES,
            active,
            "active@example.org",
            NOW - timedelta(days=400),
        ),
    }
    for name, url in pages.items():
        tab.goto(url)
        found += _check(tab, name)
    # The pages a form leads to: an error tied to its field, the inbox page, the undo.
    tab.goto(f"{base}/subscribe")
    tab.get_by_label("Email address").fill("not an address")
    tab.evaluate("document.querySelector('form[action=\"/subscribe\"]').noValidate = true")
    tab.get_by_role("button", name="Subscribe").click()
    found += _check(tab, "subscribe-error")
    tab.get_by_label("Email address").fill("new@example.org")
    tab.get_by_role("button", name="Subscribe").click()
    found += _check(tab, "subscribe-done")
    tab.goto(_link(runtime, base, Purpose.UNSUBSCRIBE, leaving, "leaving@example.org", NOW))
    tab.get_by_role("button", name="Unsubscribe").click()
    found += _check(tab, "unsubscribed")
    tab.get_by_role("button", name="Undo: keep me subscribed").click()
    assert tab.get_by_role("heading", name="You are subscribed again").is_visible()
    found += _check(tab, "resubscribed")
    assert found == [], "\n".join(found)


def test_the_check_finds_what_it_should(browser: Any) -> None:  # noqa: F811 (the fixture)
    """The harness itself: a page with known faults is not passed."""
    tab = browser.new_page()
    tab.set_content(
        "<!doctype html><html><title>x</title><body><img src='x.png'>"
        "<p style='color:#aaa;background:#fff'>faint</p><input type=text></body></html>"
    )
    found = " ".join(violations(tab))
    for rule in ("html-has-lang", "image-alt", "color-contrast", "label"):
        assert rule in found


def test_the_confirmation_and_welcome_emails_pass_axe(
    settings: Settings,
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    templates = environment(settings)
    common = {"site": settings.site, "organization": settings.organization}
    emails = {
        "confirm": {
            **common,
            "confirm_url": "https://news.example.org/confirm?token=t",
            "topics": ["Asylum"],
            "max_age_days": 7,
        },
        "welcome": {
            **common,
            "name": "Ana",
            "topics": ["Asylum"],
            "preferences_url": "https://news.example.org/preferences?token=t",
            "unsubscribe_url": "https://news.example.org/unsubscribe?token=t",
            "latest": Latest("Last week", "https://news.example.org/archive/2026-W47"),
            "how_often": "",
        },
    }
    # A reader who chose other than weekly is told what they will get instead.
    chose = "Asylum: a daily digest at 7:00; Border Enforcement: each story as it is published"
    emails["welcome-cadences"] = {**emails["welcome"], "how_often": chose}
    tab = browser.new_page()
    found: list[str] = []
    for name, context in emails.items():
        template = templates.get_template(f"email/{name.split('-')[0]}.html")
        tab.set_content(template.render(context))
        found += _check(tab, f"email-{name}")
    assert found == [], "\n".join(found)


def test_the_digest_passes_axe_and_its_read_more_links_differ(
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    """The golden digests as readers get them, in a browser as webmail shows them."""
    tab = browser.new_page()
    found: list[str] = []
    for case in ("demo", "hostile"):
        tab.set_content((DIGESTS / case / "expected.html").read_text())
        found += _check(tab, f"email-digest-{case}")
        names = tab.eval_on_selector_all(
            "a",
            "links => links.map(a => a.textContent.trim()).filter(t => t.startsWith('Read more'))",
        )
        assert names
        assert len(set(names)) == len(names), names  # each tells its story apart
    assert found == [], "\n".join(found)
