"""The topic page in a real browser (Debian's chromium), checked by axe-core: no violation."""

from __future__ import annotations

from typing import Any

from newsletter.runtime import Runtime
from tests.web.axe import assert_accessible
from tests.web.live import browser, free_port, live_server  # noqa: F401 (fixture)
from tests.web.test_pages import _site


def test_the_topic_page_has_no_accessibility_violation(
    runtime: Runtime,
    browser: Any,  # noqa: F811
) -> None:
    _site(runtime)
    with live_server(runtime, free_port()) as url:
        page = browser.new_page()
        for path in ("/topics/asylum", "/"):
            response = page.goto(url + path)
            assert response is not None
            assert response.status == 200
            assert_accessible(page)
        page.get_by_role("main").get_by_role("link", name="Asylum", exact=True).click()
        assert page.url == url + "/topics/asylum"
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscribe").click()
        assert page.url == url + "/subscribe"
