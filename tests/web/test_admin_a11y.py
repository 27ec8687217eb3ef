"""Every admin screen in chromium at 375 and 1280 px: no axe-core violation (WCAG 2.2 A/AA)."""

from __future__ import annotations

from typing import Any

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from tests.dns_server import dns_server, txt
from tests.web.admin_helpers import PASSWORD, make_editor
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.test_admin_browser import _draft
from tests.web.test_admin_browser import site as site
from tests.web.test_public_browser import SHOTS, WIDTHS

DMARC_MONITORING = txt("_dmarc.example.org", "v=DMARC1; p=none")


def test_every_admin_screen_passes_axe(
    site: tuple[Runtime, str],
    browser: Any,
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = _draft(runtime)
    # The admin's CSP forbids inline scripts; axe is injected as one, so this context allows it.
    page = browser.new_context(bypass_csp=True).new_page()
    found: list[str] = []

    def check(name: str) -> None:
        found.extend(at_widths(page, name, WIDTHS, SHOTS))

    page.goto(f"{url}/admin/login")
    check("login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    screens = {
        "issues": "/admin/issues",
        "issue": f"/admin/issues/{issue_id}",
        "edit": f"/admin/issues/{issue_id}/edit",
        "blocks": "/admin/blocks",
        "deliverability": f"/admin/issues/{issue_id}/deliverability",
        "signup-forms": "/admin/signup-forms",
        "welcome": "/admin/welcome",
        "import": "/admin/subscribers/import",
        "sending-domain": "/admin/sending-domain",
        "api-tokens": "/admin/api-tokens",
        "webhooks": "/admin/webhooks",
    }
    # The sending domain's page asks DNS: a pass, a warning and failures, all drawn.
    records = [txt("example.org", "v=spf1 ip4:127.0.0.1 -all"), DMARC_MONITORING]
    with dns_server(records):
        for name, path in screens.items():
            answer = page.goto(url + path)
            assert answer is not None
            assert answer.status == 200, (path, answer.status)  # the screen, not an error page
            check(name)
    assert found == [], "\n".join(found)
