"""Special issues in chromium against real servers: breaking news and an appeal created in the
admin for a topic audience, stopped by the confirmation, then sent through the SMTP test server
and checked message by message; the weekly digest the same day leaves the breaking story out
for those who had it. axe at 375 and 1280 px on each new screen, screenshots under
test-artifacts/pages/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from newsletter.digest.build import build_issue
from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.pipeline import review
from newsletter.pipeline.send import send
from newsletter.runtime import Runtime
from subscribers.models import Status
from tests import factories
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import make_editor, send_test_from_page
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.test_admin_browser import NOW
from tests.web.test_admin_browser import site as site
from tests.web.test_admin_sending_browser import _signed_in
from tests.web.test_public_browser import SHOTS, WIDTHS
from tests.web.test_subscription import part

WALL = "Agents Close the Wall Gate at Dawn"
COURT = "Court Hears the Asylum Case"


def _world(runtime: Runtime) -> None:
    """Two stories, one per topic; readers of everything, of each topic, and one unconfirmed."""
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, NOW)
        border, asylum = topics["border-enforcement"], topics["asylum"]
        factories.add_post(
            session, "wall-gate", NOW - timedelta(hours=3), [border], title=WALL, image=True
        )
        factories.add_post(session, "court", NOW - timedelta(days=1), [asylum], title=COURT)
        session.add_all(
            [
                factories.subscriber("all@example.org", NOW),
                factories.subscriber("border@example.org", NOW, topics=[border]),
                factories.subscriber("asylum@example.org", NOW, topics=[asylum]),
                factories.subscriber("new@example.org", NOW, status=Status.PENDING),
            ]
        )


def _ready(runtime: Runtime, browser: Any, url: str) -> Any:
    """The world above, a publisher, and a page signed in as them."""
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    _world(runtime)
    return _signed_in(browser, url)


def _confirmed_and_sent(page: Any, url: str, runtime: Runtime, smtp: SmtpServer) -> int:
    """Send now, stopped by the confirmation (nothing sent), confirmed, then the send runs."""
    issue_id = int(page.url.rstrip("/").split("/")[-1].split("?")[0])
    before = len(smtp.received)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#send-now")
    shown = int(page.inner_text("#audience-count"))
    assert len(smtp.received) == before  # asked once more: nothing has gone
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#confirm")
    assert len(smtp.received) == before
    assert send(runtime, issue_id).result is not None  # the scheduler's part
    assert len(smtp.received) == before + shown
    return issue_id


def _mailed(smtp: SmtpServer, subject: str) -> dict[str, Any]:
    return {m.recipients[0]: m.message for m in smtp.received if m.message["Subject"] == subject}


def test_breaking_news_to_a_topic_then_the_weekly_digest_without_it(
    site: tuple[Runtime, str], browser: Any, smtp: SmtpServer
) -> None:
    runtime, url = site
    page = _ready(runtime, browser, url)
    found: list[str] = []

    page.click("#new-special")
    page.fill("#q", "wall gate")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("form[role=search] button")
    assert page.locator("input[name=post_id]").count() == 1
    assert WALL in page.inner_text("#special-form")
    found += at_widths(page, "special-new-breaking", WIDTHS, SHOTS)
    page.check("input[name=topics][value=border-enforcement]")
    page.fill("#intro_markdown", "Our reporter was **there**.")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#special-form button[type=submit]")
    assert page.inner_text("#kind") == "Breaking news"
    assert "Border Enforcement" in page.inner_text("#special-audience")
    preview = page.frame_locator("iframe#desktop")
    preview.locator("strong", has_text="there").wait_for()
    assert preview.locator("text=Breaking news").count() >= 1
    found += at_widths(page, "special-issue", WIDTHS, SHOTS)

    # A test copy, through the real SMTP server.
    send_test_from_page(page, "pub@example.org")
    (proof,) = smtp.to("pub@example.org")
    assert proof.message["Subject"] == f"[TEST] Breaking news: {WALL}"

    issue_id = _confirmed_and_sent(page, url, runtime, smtp)
    mailed = _mailed(smtp, f"Breaking news: {WALL}")
    assert set(mailed) == {"all@example.org", "border@example.org"}
    for message in mailed.values():
        assert "<strong>there</strong>" in part(message, "html")
        assert WALL in part(message, "plain")

    # The archive lists it, marked.
    key = runtime.sessions().get(Issue, issue_id).key  # type: ignore[union-attr]
    page.goto(f"{url}/archive")
    listed = page.locator(f"li:has(a[href='/archive/{key}'])").inner_text()
    assert listed.startswith("Breaking news:")

    # The weekly digest the same day: the wall story stays in it, but not for those who had it.
    with runtime.sessions.begin() as session:
        weekly = build_issue(session, runtime.settings, NOW).issue_id
    assert weekly is not None
    review.send_now(runtime, weekly, "pub@example.org")
    assert send(runtime, weekly).result is not None
    digests = {
        m.recipients[0]: m.message
        for m in smtp.received
        if not str(m.message["Subject"]).startswith(("Breaking", "[TEST]"))
    }
    assert set(digests) == {"all@example.org", "asylum@example.org"}  # border@ had its one story
    assert WALL not in part(digests["all@example.org"], "plain")
    assert COURT in part(digests["all@example.org"], "plain")
    assert found == [], "\n".join(found)


def test_an_appeal_to_a_topic_audience_safe_and_with_its_button(
    site: tuple[Runtime, str], browser: Any, smtp: SmtpServer
) -> None:
    runtime, url = site
    page = _ready(runtime, browser, url)
    found: list[str] = []

    page.goto(f"{url}/admin/issues/new?kind=appeal")
    body = (
        "## Keep asylum reporting going\n\nWe rely on readers. "
        "<script>window.pwned=1</script> <img src=x onerror=alert(1)>\n\n"
        "[A bad link](javascript:alert(2))\n"
    )
    page.fill("#subject", "A year-end word from the newsroom")
    page.fill("#body_markdown", body)
    page.check("input[name=topics][value=asylum]")
    page.fill("#cta_label", "Give today")
    page.fill("#cta_url", "javascript:alert(3)")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#special-form button[type=submit]")
    # Refused inside the admin, with everything as typed.
    assert "starting with https://" in page.inner_text("#form-error")
    assert page.input_value("#body_markdown") == body
    assert page.input_value("#subject") == "A year-end word from the newsroom"
    assert page.is_checked("input[name=topics][value=asylum]")
    found += at_widths(page, "special-new-appeal", WIDTHS, SHOTS)
    page.fill("#cta_url", "https://news.example.org/give")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#special-form button[type=submit]")
    assert page.inner_text("#kind") == "Appeal"
    preview = page.frame_locator("iframe#desktop")
    preview.locator("a", has_text="Give today").wait_for()
    assert page.evaluate("window.pwned") is None
    found += at_widths(page, "special-appeal", WIDTHS, SHOTS)

    # Its own edit form: the audience and text, as saved.
    page.click("#edit-special")
    assert page.input_value("#body_markdown") == body
    found += at_widths(page, "special-edit", WIDTHS, SHOTS)
    page.go_back()

    _confirmed_and_sent(page, url, runtime, smtp)
    mailed = _mailed(smtp, "A year-end word from the newsroom")
    assert set(mailed) == {"all@example.org", "asylum@example.org"}
    for message in mailed.values():
        html, text = part(message, "html"), part(message, "plain")
        assert "Keep asylum reporting going" in html
        assert ">Give today<" in html
        assert "Give today: http" in text
        assert "<script" not in html
        assert "<img src=x" not in html
        assert 'href="javascript' not in html
        assert "Make a contribution" in html  # the donate block, as the digest's
    assert found == [], "\n".join(found)
