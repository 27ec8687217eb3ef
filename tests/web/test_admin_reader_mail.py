"""The admin's pages about what readers get besides the digest: signup forms, the welcome."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import pytest
from fastapi.testclient import TestClient

from newsletter import catalog
from newsletter.editors.models import Role
from newsletter.models import IssueStatus
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests import factories
from tests.web.admin_helpers import make_editor, sign_in

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    with runtime.sessions.begin() as session:
        catalog.sync(session, runtime.settings, AT)  # the site's topics, as `init` stores them
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    signed_in = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(signed_in, "ed@example.org")
    return signed_in


def test_the_signup_forms_page_shows_a_snippet_per_topic(client: TestClient) -> None:
    page = client.get("/admin/signup-forms")
    assert page.status_code == 200
    assert "embed_origins" in page.text  # none set yet: it says how to allow a site
    snippets = [
        code.text_content() for code in lxml.html.fromstring(page.text).cssselect("pre code")
    ]
    assert len(snippets) == 3  # all topics, then each of the two
    assert 'action="https://news.example.org/subscribe/embed"' in snippets[0]
    # One per topic in the database, by name: topics added in the admin get one too.
    assert 'name="topics" value="asylum"' in snippets[1]
    assert 'name="topics" value="border-enforcement"' in snippets[2]
    assert "<script" not in "".join(snippets)  # it works without JavaScript


def test_the_welcome_preview_shows_both_parts_with_sample_links(
    runtime: Runtime, client: TestClient
) -> None:
    with runtime.sessions.begin() as session:
        session.add(
            factories.issue(
                AT, key="2026-W47", status=IssueStatus.SENT, subject="Last week", sent_at=AT
            )
        )
    page = client.get("/admin/welcome")
    assert page.status_code == 200
    assert "Subject: <strong>Welcome to" in page.text
    text = lxml.html.fromstring(page.text).cssselect("pre.text")[0].text_content()
    assert "Hello Preview Reader," in text
    assert "https://news.example.org/archive/2026-W47" in text
    html = client.get("/admin/welcome.html")
    assert "sandbox" in html.headers["content-security-policy"]
    assert 'href="#unsubscribe-link"' in html.text
