"""The guarded send in chromium against real servers: the count asked for is the count the SMTP
server then receives; the page follows the send by itself; up/down reorder; a bad test address
keeps the form. axe at 375 and 1280 px on each new screen, screenshots under test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from newsletter.deliver.state import start
from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.pipeline.send import send, variant_renderer
from newsletter.runtime import Runtime
from subscribers.models import Cause, Status, Suppression
from tests import factories
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import PASSWORD, make_editor, send_test_from_page, stored_issue
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.test_admin_browser import NOW, _draft
from tests.web.test_admin_browser import site as site
from tests.web.test_public_browser import SHOTS, WIDTHS


def _signed_in(browser: Any, url: str) -> Any:
    # The admin's CSP forbids inline scripts; axe is injected as one, so this context allows it.
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    return page


def _more_readers(runtime: Runtime) -> None:
    """Two more who receive it, and one each who do not: unconfirmed, paused, suppressed."""
    with runtime.sessions.begin() as session:
        session.add_all(
            [
                factories.subscriber("ana@example.org", NOW),
                factories.subscriber("bo@example.org", NOW),
                factories.subscriber("new@example.org", NOW, status=Status.PENDING),
                factories.subscriber("away@example.org", NOW, paused_until=NOW + timedelta(days=9)),
                factories.subscriber("blocked@example.org", NOW),
                Suppression(email="blocked@example.org", reason=Cause.ADMIN, created_at=NOW),
            ]
        )


def test_the_count_confirmed_is_the_count_the_mail_server_receives(
    site: tuple[Runtime, str], browser: Any, smtp: SmtpServer
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = _draft(runtime)
    _more_readers(runtime)
    page = _signed_in(browser, url)
    found: list[str] = []

    page.goto(f"{url}/admin/issues/{issue_id}")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#send-now")
    shown = int(page.inner_text("#audience-count"))
    summary = page.inner_text("#audience")
    assert "1 unconfirmed" in summary
    assert "1 paused" in summary
    assert "1 suppressed" in summary
    found += at_widths(page, "confirm-send", WIDTHS, SHOTS)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("#confirm")
    assert page.url.endswith(f"/admin/issues/{issue_id}")
    assert smtp.received == []  # approved for now; the scheduler (here: the test) sends it

    # Sending: the page shows the progress and, by itself, the results once it is done.
    start(runtime, issue_id, variant_renderer(runtime))
    page.goto(f"{url}/admin/issues/{issue_id}")
    assert page.get_attribute("#send-progress", "max") == str(shown)
    found += at_widths(page, "issue-sending", WIDTHS, SHOTS)
    result = send(runtime, issue_id)
    assert result.result is not None
    page.wait_for_selector("#results", timeout=20_000)
    assert len(smtp.received) == shown == 3
    assert page.inner_text("#result-delivered") == str(shown)
    key = stored_issue(runtime, issue_id).key
    assert page.get_attribute("#archive-link", "href") == f"/archive/{key}"
    found += at_widths(page, "issue-sent", WIDTHS, SHOTS)
    assert found == [], "\n".join(found)


def test_reorder_with_buttons_and_a_bad_test_address_keeps_the_form(
    site: tuple[Runtime, str], browser: Any, smtp: SmtpServer
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = _draft(runtime)
    page = _signed_in(browser, url)
    found: list[str] = []

    page.goto(f"{url}/admin/issues/{issue_id}/edit")
    before = _titles(page)
    page.fill("#subject", "Kept while moving")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(f"button[aria-label='Move {before[1]} up']")
    assert _titles(page) == [before[1], before[0]]
    assert page.input_value("#subject") == "Kept while moving"
    assert "Saved" in page.inner_text("#saved")
    found += at_widths(page, "edit-saved", WIDTHS, SHOTS)
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert [entry.post.title for entry in issue.posts] == [before[1], before[0]]

    # This issue's own title for the first story: the preview shows it, the post keeps its own.
    first = page.locator("#stories tr[data-post]").first
    first.locator("summary").click()
    first.locator("input[name^=title_]").fill("Our own title for this week")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("button[name=save]").last.click()
    preview = page.frame_locator("iframe#desktop")
    preview.locator("a", has_text="Our own title for this week").first.wait_for()
    page.goto(f"{url}/admin/issues/{issue_id}/edit")
    assert "edited for this issue" in page.inner_text("#stories")
    found += at_widths(page, "edit-override", WIDTHS, SHOTS)
    with runtime.sessions() as session:
        titles = {entry.post.title for entry in stored_issue_posts(session, issue_id)}
    assert "Our own title for this week" not in titles

    page.goto(f"{url}/admin/issues/{issue_id}")
    send_test_from_page(page, "editor at example dot org")
    assert page.input_value("#addresses") == "editor at example dot org"
    assert page.get_attribute("#addresses", "aria-describedby") == "addresses-error"
    assert "not a valid email address" in page.inner_text("#addresses-error")
    assert page.locator("nav[aria-label=Sections]").count() == 1  # still inside the admin
    found += at_widths(page, "test-refused", WIDTHS, SHOTS)
    assert smtp.received == []
    assert found == [], "\n".join(found)


def stored_issue_posts(session: Any, issue_id: int) -> list[Any]:
    issue = session.get(Issue, issue_id)
    assert issue is not None
    return list(issue.posts)


def _titles(page: Any) -> list[str]:
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in page.locator("#stories tr[data-post] td:last-child strong").all_inner_texts()
    ]
