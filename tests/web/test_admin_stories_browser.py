"""The issue editor in chromium against real servers: a partner's story added by its address
(served by a real HTTP server with OpenGraph tags), its teaser overridden and reset, a reusable
block dropped in, stories reordered by dragging, a private address refused, and the test mail
read back from the SMTP test server. Screenshots at 375 and 1280 px, axe on every screen."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest

from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.runtime import Runtime
from tests.collect.article_pages import open_graph_page
from tests.collect.httpserver import Reply, Server, http_server
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import PASSWORD, make_editor, send_test_from_page
from tests.web.axe import at_widths
from tests.web.live import browser  # noqa: F401 (fixture)
from tests.web.test_admin_browser import _draft, serving
from tests.web.test_public_browser import SHOTS, WIDTHS

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
TITLE = "Partner Shelters Fill Up Before Winter"
TEASER = "Beds in the partner network run out by noon, volunteers say."


@pytest.fixture
def partner() -> Iterator[Server]:
    page = open_graph_page(TITLE, TEASER, "/door.jpg", NOW - timedelta(days=2))
    with http_server({"/story": Reply(page, headers={"Content-Type": "text/html"})}) as server:
        yield server


@pytest.fixture
def site(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[Runtime, str]]:
    # The partner's test server runs on 127.0.0.1: the operator trusts that host by name, so
    # any other private address stays refused.
    trusted = {"trusted_hosts": ["127.0.0.1"], "retries": 0}
    with serving(database_url, tmp_path, smtp, collect=trusted) as served:
        yield served


def _order(runtime: Runtime, issue_id: int) -> list[str]:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return [entry.post.title for entry in issue.posts]


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(selector)


def test_add_a_story_by_address_override_reset_block_drag_and_mail(
    site: tuple[Runtime, str],
    browser: Any,  # noqa: F811
    smtp: SmtpServer,
    partner: Server,
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = _draft(runtime)
    # axe is injected as an inline script, which the admin's CSP forbids: this context allows it.
    page = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}).new_page()
    found: list[str] = []
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    _submit(page, "button[type=submit]")

    # A reusable block, kept on the blocks page.
    page.goto(f"{url}/admin/blocks")
    page.select_option("#new-kind", "sponsor")
    page.fill("#new-name", "Spring sponsor")
    page.fill("#new-body", "This issue is supported by **Example Foundation**.")
    _submit(page, "#block-form button[type=submit]")
    page.wait_for_selector("#saved")
    found.extend(at_widths(page, "blocks", WIDTHS, SHOTS))

    # A private address: one clear error in the form, the address kept as typed.
    edit = f"{url}/admin/issues/{issue_id}/edit"
    page.goto(edit)
    page.fill("#story_url", "http://10.0.0.7/story")
    _submit(page, "button[name=add_story]")
    assert "private address" in page.inner_text("#story_url-error")
    assert page.input_value("#story_url") == "http://10.0.0.7/story"
    assert len(_order(runtime, issue_id)) == 2
    found.extend(at_widths(page, "edit-refused", WIDTHS, SHOTS))

    # The partner's story, read from its page; added once however often it is asked for.
    for _ in range(2):
        page.fill("#story_url", f"{partner.base}/story")
        _submit(page, "button[name=add_story]")
    assert "already in this issue" in page.inner_text("#added")
    assert _order(runtime, issue_id)[-1] == TITLE
    row = page.locator("tr.story-row", has_text=TITLE)
    assert "added by address" in row.inner_text()
    post_id = row.get_attribute("data-post")

    # Its teaser overridden for this issue: the preview shows the editor's words.
    row.locator("summary").click()
    page.fill(f"#teaser_{post_id}", "Our own words about the partner's story.")
    page.select_option("#add_block", label="Spring sponsor (Sponsor line)")
    page.select_option("#add_block_after", "1")
    _submit(page, "p.save-top button[name=save]")
    page.wait_for_selector("#issue-blocks")  # a block added: back to the form's blocks
    page.goto(f"{url}/admin/issues/{issue_id}")
    desktop = page.frame_locator("iframe#desktop")
    desktop.locator("text=Our own words about the partner's story.").wait_for()
    assert desktop.locator("text=Example Foundation").count() == 1

    # Reset: back to the story's own teaser.
    page.goto(edit)
    row = page.locator("tr.story-row", has_text=TITLE)
    _submit(page, f"button[name=reset][value='{post_id}']")
    assert page.input_value(f"#teaser_{post_id}") == ""
    page.goto(f"{url}/admin/issues/{issue_id}")
    desktop = page.frame_locator("iframe#desktop")
    desktop.locator(f"text={TEASER}").wait_for()
    assert desktop.locator("text=Our own words").count() == 0

    # Drag the partner's story to the top; the order is saved without leaving the page.
    page.goto(edit)
    before = _order(runtime, issue_id)
    assert before[0] != TITLE
    page.drag_and_drop(f"tr.story-row[data-post='{post_id}'] .drag-handle", "tr.story-row >> nth=0")
    page.wait_for_function(
        "document.getElementById('order-status').textContent.startsWith('Order saved')"
    )
    assert _order(runtime, issue_id)[0] == TITLE
    assert sorted(_order(runtime, issue_id)) == sorted(before)
    page.reload()
    assert page.locator("tr.story-row").first.get_attribute("data-post") == post_id
    found.extend(at_widths(page, "edit-stories", WIDTHS, SHOTS))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#stories-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "issue-editor.png"))

    # A test to ourselves through the SMTP server: the story, its image, and the block.
    page.goto(f"{url}/admin/issues/{issue_id}")
    send_test_from_page(page, "pub@example.org")
    page.wait_for_selector("#tested")
    [mail] = smtp.to("pub@example.org")
    parsed = email.message_from_bytes(mail.data, policy=policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert TITLE in text
    assert TEASER in text
    assert "SPONSORED" in text
    assert "Example Foundation" in html
    assert f'src="{partner.base}/door.jpg"' in html
    # The dragged order (the featured story always leads; the others follow the issue's order).
    assert text.index(TITLE) < text.index("DHS Detains")

    assert found == [], "\n".join(found)
