"""Subscribers in chromium: find a reader, read why an issue never reached her, erase her; both
screens pass axe-core at 375 and 1280 px, with screenshots under test-artifacts/pages/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from newsletter.editors.models import Role
from newsletter.models import Delivery, DeliveryStatus, IssueStatus
from newsletter.runtime import Runtime
from subscribers.lifecycle import transition
from subscribers.models import Cause, ErasedAddress, Status, Subscriber, SubscriberTopic
from tests import factories
from tests.web.admin_helpers import PASSWORD, make_editor
from tests.web.axe import violations
from tests.web.live import browser as browser
from tests.web.test_admin_browser import NOW
from tests.web.test_admin_browser import site as site
from tests.web.test_public_browser import SHOTS, WIDTHS


def _reader_whose_issue_bounced(runtime: Runtime) -> None:
    signed_up = NOW - timedelta(days=20)
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, signed_up)
        for n in range(3):
            session.add(factories.subscriber(f"other{n}@example.net", signed_up))
        ana = Subscriber(
            email="ana.lopez@example.org",
            name="Ana López",
            attributes={},
            soft_bounces=0,
            signup_source="https://partner.example/story",
            signup_origin={"page": "https://partner.example/story", "utm_campaign": "fall"},
        )
        ana.topics = [SubscriberTopic(topic_id=topics["asylum"].id)]
        transition(session, ana, Status.PENDING, Cause.FORM, signed_up, "signup", "203.0.113.9")
        transition(session, ana, Status.ACTIVE, Cause.LINK, signed_up, "confirmed")
        sent = NOW - timedelta(days=6)
        issue = factories.issue(
            sent,
            key="2026-W47",
            status=IssueStatus.SENT,
            subject="Last week",
            sent_at=sent,
            sending_started_at=sent,
        )
        session.add(issue)
        session.flush()
        session.add(
            Delivery(
                issue_id=issue.id,
                subscriber_id=ana.id,
                status=DeliveryStatus.FAILED,
                attempts=1,
                last_error="552 5.2.2 mailbox full",
                created_at=sent,
            )
        )


def test_find_read_the_timeline_and_erase(site: tuple[Runtime, str], browser: Any) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    _reader_whose_issue_bounced(runtime)
    # The admin's CSP forbids inline scripts; axe is injected as one, so this context allows it.
    page = browser.new_context(bypass_csp=True).new_page()
    found: list[str] = []

    def check(name: str) -> None:
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"admin-{name}-{label}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            found.extend(f"{name} at {width}px: {v}" for v in violations(page))

    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")

    page.click("nav >> text=Subscribers")
    page.fill("input[name=q]", "lopez")
    with page.expect_navigation():
        page.click("button:has-text('Find')")
    assert page.locator("table.people a").all_inner_texts() == ["ana.lopez@example.org"]
    check("subscribers")

    with page.expect_navigation():
        page.click("text=ana.lopez@example.org")
    answers = page.locator("ul.answers").inner_text()
    assert "2026-W47" in answers
    assert (
        "Bounced: the server refused it after 1 attempt (last reply: 552 5.2.2 mailbox full)."
        in answers
    )
    timeline = page.locator("ol.timeline").inner_text()
    assert "Signed up (form: signup) from 203.0.113.9" in timeline
    assert "Server reply: 552 5.2.2 mailbox full" in timeline
    assert "utm_campaign" in page.locator("dl.meta").inner_text()
    assert page.is_checked("input[name=topics][value=asylum]")
    check("subscriber")

    page.goto(f"{url}/admin/audience")
    assert page.locator("figure.chart").count() == 6
    check("audience")

    page.go_back()
    page.fill("input[name=confirm]", "ana.lopez@example.org")
    with page.expect_navigation():
        page.click("button:has-text('Erase')")
    assert "Erased." in page.locator("[role=status]").inner_text()
    assert "ana.lopez" not in page.content()
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ErasedAddress)) == 1
        assert session.scalar(select(Subscriber).where(Subscriber.email.like("ana%"))) is None
    assert found == [], "\n".join(found)
