"""The audience page's cadence split and a subscriber's cadences, in chromium at 375 and 1280 px:
no axe-core violation, and the bar drawn in proportion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from subscribers.manage import confirm
from subscribers.models import Cadence, Subscriber
from subscribers.signup import signup
from tests.cadences import EVERY_CADENCE
from tests.factories import add_topics
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import PASSWORD, make_editor
from tests.web.axe import at_widths
from tests.web.live import browser as browser
from tests.web.test_admin_browser import NOW, serving
from tests.web.test_public_browser import SHOTS, WIDTHS


@pytest.fixture
def site(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[Runtime, str]]:
    """Served offering every cadence (the served app reads its own settings, not `settings`)."""
    with serving(database_url, tmp_path, smtp, digest={"cadences": EVERY_CADENCE}) as served:
        yield served


def _readers(runtime: Runtime) -> int:
    """Three active readers of asylum: weekly, daily, each story; returns the daily one's id."""
    with runtime.sessions.begin() as session:
        asylum = add_topics(session, runtime.settings, NOW)["asylum"].id
        ids = []
        for email, cadence in (
            ("w@example.org", Cadence.WEEKLY),
            ("d@example.org", Cadence.DAILY),
            ("e@example.org", Cadence.EACH),
        ):
            made = signup(session, email, "", {asylum}, NOW, cadences={asylum: cadence})
            person = session.get(Subscriber, made.subscriber_id)
            assert person is not None
            confirm(session, person, NOW)
            ids.append(made.subscriber_id)
        return ids[1]


def test_the_cadence_split_and_a_subscribers_cadences_pass_axe(
    site: tuple[Runtime, str],
    browser: Any,
) -> None:
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    daily = _readers(runtime)
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues")
    found: list[str] = []
    page.goto(f"{url}/admin/audience")
    page.set_viewport_size({"width": 1280, "height": 900})
    widths = page.eval_on_selector_all(
        'tr[data-topic="asylum"] .stack span', "spans => spans.map(s => s.offsetWidth)"
    )
    assert len(widths) == 3
    assert max(widths) - min(widths) <= 1  # a third each
    found += at_widths(page, "audience-cadence", WIDTHS, SHOTS)
    page.goto(f"{url}/admin/subscribers/{daily}")
    assert page.inner_text("#topic-cadences") == "asylum: Daily digest"
    found += at_widths(page, "subscriber-cadence", WIDTHS, SHOTS)
    # The editor changes it there: one select per chosen topic, labelled with its name.
    page.select_option("select#cadence-asylum", label="Each story as it is published")
    with page.expect_navigation():
        page.click("#edit-cadences ~ button[type=submit]")
    assert page.inner_text("p.notice") == "Saved."
    assert page.inner_text("#topic-cadences") == "asylum: Each story as it is published"
    timeline = page.inner_text("ol.timeline")
    assert "changed how often for asylum: each story as it is published (by editor" in timeline
    found += at_widths(page, "subscriber-cadence-saved", WIDTHS, SHOTS)
    assert found == [], "\n".join(found)
