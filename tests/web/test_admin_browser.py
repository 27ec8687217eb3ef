"""The editors' flow in a real browser: sign in, preview, approve, see it scheduled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter import migrate
from newsletter.config import Settings, load_settings
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from tests.web.admin_helpers import PASSWORD, make_draft, make_editor
from tests.web.live import browser, free_port, live_server  # noqa: F401 (fixture)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    port = free_port()
    settings: Settings = load_settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site={"url": f"http://127.0.0.1:{port}", "timezone": "America/New_York"},
    )
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    with live_server(runtime, port) as url:
        yield runtime, url
    runtime.close()


def test_sign_in_preview_approve(site: tuple[Runtime, str], browser: Any) -> None:  # noqa: F811
    runtime, url = site
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime, title="Beyond A Border Solution <script>window.pwned=1</script>")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    page.goto(f"{url}/admin/issues/{issue_id}")
    assert "/admin/login" in page.url  # sent to sign in first, and back afterwards
    page.fill("input[name=email]", "pub@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/issues/{issue_id}")

    desktop = page.frame_locator("iframe#desktop")
    assert "Beyond A Border Solution" in desktop.locator("h1").inner_text()
    assert desktop.locator("text=Hi Preview Reader").count() == 1
    # The title's script is in the stored HTML but never runs in the editor's session.
    assert page.evaluate("window.pwned") is None
    frame = page.frames[1]
    assert frame.evaluate("typeof window.pwned") == "undefined"

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("iframe#desktop").screenshot(path=str(ARTIFACTS / "preview-desktop.png"))
    page.locator("iframe#phone").screenshot(path=str(ARTIFACTS / "preview-phone.png"))
    assert page.locator("iframe#desktop").bounding_box()["width"] == pytest.approx(640, abs=4)
    assert page.locator("iframe#phone").bounding_box()["width"] == pytest.approx(375, abs=4)

    page.fill("input[name=send_at]", "2030-01-04T10:00")
    page.click("button[name=approve]")
    page.wait_for_selector(".scheduled")
    assert "Scheduled for Fri 04 Jan 2030, 10:00 EST" in page.inner_text(".scheduled")
    page.goto(f"{url}/admin/issues")
    assert "sends Fri 04 Jan 2030, 10:00 EST" in page.inner_text("#approved")
    assert dialogs == []
