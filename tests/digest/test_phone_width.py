"""On a phone's 375 px the digest never scrolls sideways, whatever the titles and teasers hold."""

from __future__ import annotations

from typing import Any

import pytest

from tests.digest.cases import render_case
from tests.web.live import browser  # noqa: F401 (fixture)

PHONE = {"width": 375, "height": 800}


@pytest.mark.parametrize("case", ["demo", "hostile"])
def test_the_digest_fits_a_phone(browser: Any, case: str) -> None:  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    try:
        page.set_content(render_case(case).rendered.html, wait_until="domcontentloaded")
        width = page.evaluate("document.documentElement.scrollWidth")
        # The hostile case holds a 5,000-letter word in a title and in a teaser.
        assert width <= PHONE["width"]
    finally:
        page.close()
