"""A reader clicks a story in a delivered email and lands on it with its UTM parameters; the
editor sees the click in the issue's report, with a link scanner's and the trap's filtered.
The report passes axe-core at 375 and 1280 px (screenshots under test-artifacts/pages/)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import load_settings
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from tests.analytics.delivered import deliver_issue
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import PASSWORD, make_editor
from tests.web.axe import violations
from tests.web.live import browser as browser
from tests.web.live import free_port, live_server
from tests.web.test_public_browser import SHOTS, WIDTHS

# A reader's Chrome: headless chromium names itself HeadlessChrome, which the filter (rightly)
# takes for a sandbox's automated browser.
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


class _Story(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Story.seen.append(self.path)
        body = b"<!doctype html><title>The story</title><h1>The story</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def story_site() -> Iterator[str]:
    """The newsroom's own site, where a story link lands."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Story)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(
    database_url: str, tmp_path: Path, smtp: SmtpServer
) -> Iterator[tuple[Runtime, FixedClock, str]]:
    port = free_port()
    settings = load_settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        smtp_url=smtp.url,
        site={"url": f"http://127.0.0.1:{port}", "timezone": "America/New_York"},
        analytics={"flush_seconds": 0.2, "burst_seconds": 1},
    )
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    runtime = Runtime.build(settings, clock)
    migrate.upgrade(runtime.engine)
    with live_server(runtime, port) as url:
        yield runtime, clock, url
    runtime.close()


def _figure(page: Any, row: str) -> str:
    return str(page.locator(f"#report-clicks tr:has(th:text-is('{row}')) td").inner_text())


def test_a_click_from_the_email_lands_on_the_story_and_shows_in_the_report(
    site: tuple[Runtime, FixedClock, str],
    smtp: SmtpServer,
    story_site: str,
    browser: Any,
) -> None:
    runtime, clock, url = site
    _Story.seen.clear()
    email = deliver_issue(runtime, smtp, story_url=f"{story_site}/story-0/", stories=2)
    story = email.of_kind(runtime, "story")[0]  # Story 0, the newest, is first
    reader = browser.new_context(user_agent=CHROME).new_page()
    reader.goto(story)
    landed = urlsplit(reader.url)
    assert f"{landed.scheme}://{landed.netloc}" == story_site
    assert landed.path == "/story-0/"
    query = parse_qs(landed.query)
    assert query["utm_source"] == ["newsletter"]
    assert query["utm_medium"] == ["email"]
    assert reader.locator("h1").inner_text() == "The story"
    assert _Story.seen
    assert _Story.seen[0].startswith("/story-0/?utm_source=newsletter")
    # A security gateway checks a link on delivery, and a sandbox follows the hidden trap.
    other = email.of_kind(runtime, "story")[1]
    httpx.get(other, headers={"User-Agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)"})
    trap = email.of_kind(runtime, "trap")[0]
    httpx.get(trap, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Sandbox/1"})
    clock.advance(timedelta(seconds=5))  # the clicks settle; the writer runs every 0.2 s

    make_editor(runtime, "ed@example.org", Role.EDITOR)
    # The admin's CSP forbids inline scripts; axe is injected as one, so this context allows it.
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "ed@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    deadline = time.monotonic() + 20
    while True:
        page.goto(f"{url}/admin/issues/{email.issue_id}")
        if _figure(page, "By people") == "1" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert _figure(page, "By people") == "1"
    assert _figure(page, "Filtered: link scanner or security gateway") == "1"
    assert _figure(page, "Filtered: hidden trap link") == "1"
    assert page.locator("#report-mail tr:has(th:text-is('Delivered')) td").inner_text() == "1"
    stories = page.locator("#report-stories-table tbody tr").all_inner_texts()
    assert stories[0].split("\t")[1:] == ["Story 0", "1", "0"]
    assert page.locator("#report svg rect").count() == 2
    found: list[str] = []
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        SHOTS.mkdir(parents=True, exist_ok=True)
        report = page.locator("#report")
        report.screenshot(path=str(SHOTS / f"admin-issue-report-{label}.png"))
        # The report fits the screen (the page's email preview below it is 600 px by design).
        assert report.evaluate("e => e.scrollWidth <= e.clientWidth")
        box = report.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width
        found.extend(f"issue report at {width}px: {v}" for v in violations(page))

    # The month's page, from the navigation: the top stories across the month's issues.
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("nav >> text=Reports")
    top = page.locator("#month-top-table tbody tr").all_inner_texts()
    assert [row.split("\t")[1] for row in top] == ["Story 0"]
    issues = page.locator("#month-issues tbody tr").all_inner_texts()
    assert len(issues) == 1
    assert issues[0].split("\t")[1:5] == ["1", "1", "0", "2"]
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"admin-month-report-{label}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        found.extend(f"month report at {width}px: {v}" for v in violations(page))
    assert found == [], "\n".join(found)
