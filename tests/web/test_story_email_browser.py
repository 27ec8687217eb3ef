"""A single-story email in the admin, in chromium: approved for after the delay, held by an
editor, a second story joining it while held, then sent as one email through the SMTP test
server. axe at 375 and 1280 px, screenshots under test-artifacts/pages/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from newsletter.editors.models import Role
from newsletter.models import Issue, IssueStatus
from newsletter.pipeline import cadence, review
from newsletter.pipeline.send import send
from newsletter.runtime import Runtime
from subscribers.models import Cadence, SubscriberTopic
from tests import factories
from tests.cadences import EVERY_CADENCE
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import make_editor
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.test_admin_browser import NOW, serving
from tests.web.test_admin_sending_browser import _signed_in
from tests.web.test_public_browser import SHOTS, WIDTHS
from tests.web.test_subscription import part

FIRST = "Agents Close the Wall Gate at Dawn"
SECOND = "Court Hears the Asylum Case"


@pytest.fixture
def site(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[Runtime, str]]:
    with serving(database_url, tmp_path, smtp, digest={"cadences": EVERY_CADENCE}) as served:
        yield served


def _post(runtime: Runtime, slug: str, title: str, topic: str) -> None:
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, NOW)
        factories.add_post(session, slug, NOW - timedelta(minutes=1), [topics[topic]], title=title)


def test_hold_a_story_email_then_send_it_with_the_story_that_joined(
    site: tuple[Runtime, str], browser: Any, smtp: SmtpServer
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, NOW)
        chosen = [topics["border-enforcement"], topics["asylum"]]
        reader = factories.add_subscriber(session, "each@example.org", NOW, chosen)
        session.execute(
            update(SubscriberTopic)
            .where(SubscriberTopic.subscriber_id == reader.id)
            .values(cadence=Cadence.EACH)
        )
        factories.add_subscriber(session, "weekly@example.org", NOW, chosen)
    _post(runtime, "wall-gate", FIRST, "border-enforcement")
    assert "approved to go" in cadence.run(runtime)
    with runtime.sessions() as session:
        issue = session.query(Issue).one()
        issue_id, due = issue.id, issue.send_at
    assert due is not None
    assert due >= NOW + timedelta(minutes=14)  # the delay, counted from when it came in

    page = _signed_in(browser, url)
    page.goto(f"{url}/admin/issues/{issue_id}")
    assert page.inner_text("#kind") == "New story, for readers who chose it"
    assert "Audience" not in page.inner_text("main")  # not a special issue's summary
    assert "1 subscriber" in page.inner_text("#audience")  # the weekly reader is not theirs
    found = at_widths(page, "story-approved", WIDTHS, SHOTS)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("button:has-text('Hold')")
    found += at_widths(page, "story-held", WIDTHS, SHOTS)
    with runtime.sessions() as session:
        held = session.get(Issue, issue_id)
        assert held is not None
        assert held.status == IssueStatus.DRAFT

    # A story that comes in while it is held joins it; nothing goes until someone approves.
    _post(runtime, "court", SECOND, "asylum")
    assert "more stories in" in cadence.run(runtime)
    page.reload()
    preview = page.frame_locator("iframe#desktop")
    preview.locator("text=" + SECOND).first.wait_for()
    assert page.locator("#send_at").input_value() == NOW.astimezone(runtime.settings.zone).strftime(
        "%Y-%m-%dT%H:%M"
    )
    assert smtp.received == []

    review.send_now(runtime, issue_id, "pub@example.org")
    send(runtime, issue_id)
    [mail] = smtp.received
    assert mail.recipients == ["each@example.org"]
    text = part(mail.message, "plain")
    assert FIRST in text
    assert SECOND in text
    assert found == [], "\n".join(found)
