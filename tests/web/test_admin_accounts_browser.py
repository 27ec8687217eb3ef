"""Editor accounts in chromium against real servers: a publisher invites an editor by mail
(the real SMTP test server), who chooses a password from the link, sets up two-factor sign-in
and signs in with a code; every screen on the way passes axe at 375 and 1280 px."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pyotp

from newsletter.clock import FixedClock
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import PASSWORD, make_editor
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.test_admin_browser import site as site
from tests.web.test_public_browser import SHOTS, WIDTHS

NEW_PASSWORD = "my own long password"


def test_invite_set_password_enrol_and_sign_in_with_a_code(
    site: tuple[Runtime, str],
    browser: Any,
    smtp: SmtpServer,
) -> None:
    runtime, url = site
    assert isinstance(runtime.clock, FixedClock)
    clock = runtime.clock
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    # The admin's CSP forbids inline scripts; axe is injected as one, so this context allows it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    found: list[str] = []

    def check(name: str) -> None:
        found.extend(at_widths(page, name, WIDTHS, SHOTS))
        # On a phone, nothing may stick out sideways.
        page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name} is wider than a phone"

    # The publisher signs in and invites an editor from the Editors screen.
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    page.click("nav >> text=Editors")
    page.wait_for_url(f"{url}/admin/editors")
    page.fill("input[name=email]", "New.Editor@example.org")
    page.select_option("select[name=role]", "editor")
    page.click("text=Send invitation")
    page.wait_for_selector("text=Invitation mailed to new.editor@example.org.")
    assert "invited" in page.inner_text("tr[data-editor='new.editor@example.org']")
    check("editors")

    # The mail came through SMTP with the link; the invited editor opens it in their browser.
    [mail] = smtp.to("new.editor@example.org")
    text = mail.message.get_payload(decode=True).decode()
    link = re.search(r"(http://127\.0\.0\.1:\d+/admin/set-password\?token=\S+)", text)
    assert link, text
    invited = browser.new_context(bypass_csp=True).new_page()
    page = invited
    page.goto(link.group(1))
    check("set-password")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.click("text=Set password")
    page.wait_for_selector("text=Your password is set.")
    page.click("text=Sign in")
    page.fill("input[name=email]", "new.editor@example.org")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    assert page.locator("nav >> text=Editors").count() == 0  # an editor, not a publisher

    # Two-factor sign-in, from the account page: the QR code, the URI, a code from the app.
    page.click("a.who")
    page.wait_for_url(f"{url}/admin/account")
    check("account")
    page.click("text=Set up two-factor sign-in")
    page.wait_for_selector(".qr svg")
    check("account-setup")
    uri = unquote(page.get_attribute(".setup-uri a", "href") or "")
    totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    page.fill("input[name=code]", totp.at(clock.now()))
    page.click("text=Turn on")
    page.wait_for_selector(".recovery-codes")
    assert page.locator(".recovery-codes li").count() == 10
    check("account-codes")

    # Signing in again takes the password, then a new code (the enrolment's is spent).
    page.click("text=Sign out")
    page.wait_for_url(f"{url}/admin/login")
    page.fill("input[name=email]", "new.editor@example.org")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/login/code")
    check("login-code")
    page.fill("input[name=code]", totp.at(clock.now()))
    page.click("button[type=submit]")
    page.wait_for_selector("text=does not match, or was used already")
    clock.advance(timedelta(seconds=30))
    page.fill("input[name=code]", totp.at(clock.now()))
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    assert "new.editor@example.org" in page.inner_text("a.who")
    assert found == [], "\n".join(found)
