"""The editors' flow in a real browser (Debian's chromium via Playwright) against real servers:
sign in, open the draft, leave out a story, change the intro, send a test, approve, see it
scheduled. Screenshots of the preview at both widths are kept under test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import load_settings
from newsletter.digest.build import build_issue
from newsletter.editors.models import Role
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from tests.factories import add_post, add_subscriber, add_topics
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import PASSWORD, make_editor, send_test_from_page
from tests.web.live import browser, free_port, live_server  # noqa: F401 (fixture)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thursday 09:00 in New York


@contextmanager
def serving(
    database_url: str, tmp_path: Path, smtp: SmtpServer, **settings_given: Any
) -> Iterator[tuple[Runtime, str]]:
    """The app served on a free port, its mail to `smtp`, with any further settings given."""
    port = free_port()
    settings = load_settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        smtp_url=smtp.url,
        site={"url": f"http://127.0.0.1:{port}", "timezone": "America/New_York"},
        topics=[
            {"slug": "border-enforcement", "name": "Border Enforcement"},
            {"slug": "asylum", "name": "Asylum"},
        ],
        **settings_given,
    )
    runtime = Runtime.build(settings, FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    with live_server(runtime, port) as url:
        yield runtime, url
    runtime.close()


@pytest.fixture
def site(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[Runtime, str]]:
    with serving(database_url, tmp_path, smtp) as served:
        yield served


def _draft(runtime: Runtime) -> int:
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(
            session,
            "beyond-a-border-solution",
            NOW - timedelta(days=2),
            [topics["asylum"]],
            title="Beyond A Border Solution <script>window.pwned=1</script>",
            image=True,
        )
        add_post(
            session,
            "dhs-detains-unauthorized-immigrants",
            NOW - timedelta(days=1),
            [topics["border-enforcement"]],
            title="DHS Detains Unauthorized Immigrants as They Attempt to Leave the U.S.",
        )
        add_subscriber(session, "reader@example.org", NOW)
        result = build_issue(session, runtime.settings, NOW)
    assert result.issue_id is not None
    return result.issue_id


def test_review_a_draft_end_to_end(
    site: tuple[Runtime, str],
    browser: Any,  # noqa: F811
    smtp: SmtpServer,
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = _draft(runtime)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    # Sign in: the preview link sends us to the sign-in page and back.
    page.goto(f"{url}/admin/issues/{issue_id}")
    assert "/admin/login" in page.url
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues/{issue_id}")

    # The preview: both stories, the title's script shown as text and never run.
    desktop = page.frame_locator("iframe#desktop")
    desktop.locator("text=DHS Detains Unauthorized Immigrants").first.wait_for()
    assert desktop.locator("text=<script>window.pwned=1</script>").count() >= 1
    assert page.evaluate("window.pwned") is None
    assert page.frames[1].evaluate("typeof window.pwned") == "undefined"
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("iframe#desktop").screenshot(path=str(ARTIFACTS / "preview-desktop.png"))
    page.locator("iframe#phone").screenshot(path=str(ARTIFACTS / "preview-phone.png"))
    assert page.locator("iframe#desktop").bounding_box()["width"] == pytest.approx(640, abs=4)
    assert page.locator("iframe#phone").bounding_box()["width"] == pytest.approx(375, abs=4)

    # Edit: leave out the DHS story, write an intro and watch its live preview.
    page.click("a[href$='/edit']")
    page.uncheck("input[aria-label^='Include DHS Detains']")
    page.fill("#intro", "This week: **one** story that matters.")
    page.locator("#intro-preview strong", has_text="one").wait_for()
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("button[name=save]")
    desktop = page.frame_locator("iframe#desktop")
    desktop.locator("strong", has_text="one").wait_for()  # the re-rendered issue has loaded
    assert desktop.locator("text=DHS Detains Unauthorized Immigrants").count() == 0
    page.locator("iframe#desktop").screenshot(path=str(ARTIFACTS / "preview-edited-desktop.png"))

    # A test to ourselves, through the real SMTP server.
    send_test_from_page(page, "pub@example.org")
    page.wait_for_selector("#tested")
    tests = smtp.to("pub@example.org")
    assert len(tests) == 1
    assert str(tests[0].message["Subject"]).startswith("[TEST] ")
    assert "DHS Detains" not in tests[0].data.decode("utf-8", "replace")

    # Approve for the next Friday slot, and see it scheduled on the issues list.
    page.fill("input[name=send_at]", "2026-11-27T10:00")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("button[name=approve]")
    # Asked once more, with who will receive it; then approved.
    assert page.inner_text("#audience-count") == "1"
    page.click("#confirm")
    page.wait_for_selector(".scheduled")
    assert "Scheduled for Fri 27 Nov 2026, 10:00 EST" in page.inner_text(".scheduled")
    page.goto(f"{url}/admin/issues")
    assert "sends Fri 27 Nov 2026, 10:00 EST" in page.inner_text("#approved")
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.status == IssueStatus.APPROVED
    assert dialogs == []
