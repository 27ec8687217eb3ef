"""Adding an html source in chromium with the selector tester; axe on the sources screens.

Screenshots at 375 and 1280 px go to test-artifacts/pages/admin-sources-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter import catalog, migrate
from newsletter.clock import FixedClock
from newsletter.config import load_settings
from newsletter.editors.models import Role
from newsletter.models import Post, Source
from newsletter.runtime import Runtime
from tests.collect.conftest import BORDER_SELECTORS, NOW, demo_server
from tests.web.admin_helpers import PASSWORD, make_editor
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.live import free_port, live_server
from tests.web.test_public_browser import SHOTS, WIDTHS


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, str, str]]:
    """The admin on a free port, and the demo site (a trusted host) to read sources from."""
    port = free_port()
    settings = load_settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site={"url": f"http://127.0.0.1:{port}", "timezone": "America/New_York"},
        topics=[
            {"slug": "border-enforcement", "name": "Border Enforcement"},
            {"slug": "asylum", "name": "Asylum"},
        ],
        collect={"trusted_hosts": ["127.0.0.1"]},
    )
    runtime = Runtime.build(settings, FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        catalog.sync(session, settings, NOW)
    with demo_server.serving() as demo, live_server(runtime, port) as url:
        yield runtime, url, demo
    runtime.close()


def test_a_publisher_adds_an_html_source_with_the_selector_tester(
    served: tuple[Runtime, str, str], browser: Any
) -> None:
    runtime, url, demo = served
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    page = browser.new_context(bypass_csp=True).new_page()
    found: list[str] = []

    def check(name: str) -> None:
        found.extend(at_widths(page, f"sources-{name}", WIDTHS, SHOTS))
        # at_widths leaves the page at the widest; the phone is where a page overflows.
        page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found.append(f"{name} at 375px: {overflow}px wider than the screen")

    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    page.get_by_role("link", name="Sources", exact=True).click()
    page.wait_for_url(f"{url}/admin/sources")
    check("list-empty")
    page.get_by_role("link", name="Add a source").click()
    page.get_by_label("Name").first.fill("border")
    page.get_by_label("Web page, read with CSS selectors").check()
    page.get_by_label("Address").fill(f"{demo}/topics/border-enforcement.html")
    page.get_by_label("Border Enforcement").check()
    for name, selector in BORDER_SELECTORS.items():
        page.fill(f"input[name={name}]", selector)
    page.get_by_role("button", name="Test the selectors on the live page").click()
    trial = page.locator("#trial")
    trial.wait_for()
    assert "Beyond A Border Solution" in trial.inner_text()
    assert "Nothing was stored" in trial.inner_text()
    check("tester")
    with runtime.sessions() as session:
        assert session.scalars(select(Source)).first() is None
    page.get_by_role("button", name="Add the source").click()
    page.wait_for_url(f"{url}/admin/sources/*")
    page.get_by_role("button", name="Run now").click()
    page.wait_for_url(f"{url}/admin/sources/*#health")
    assert "new " in page.locator("#health + dl").inner_text()
    check("source")
    page.goto(f"{url}/admin/sources")
    assert "border" in page.locator("#sources").inner_text()
    check("list")
    page.goto(f"{url}/admin/topics")
    check("topics")
    with runtime.sessions() as session:
        assert session.scalars(select(Post)).first() is not None
    assert found == [], "\n".join(found)
