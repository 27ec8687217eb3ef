"""Helpers for admin tests: an editor, a rendered draft, and a signed-in client."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from newsletter.digest.placeholders import html_marker, marker
from newsletter.editors.accounts import add_editor
from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.runtime import Runtime
from tests import factories

PASSWORD = "correct horse battery"
BUILT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def make_editor(runtime: Runtime, email: str, role: Role) -> None:
    with runtime.sessions.begin() as session:
        add_editor(session, email, PASSWORD, role, BUILT)


def make_draft(runtime: Runtime, title: str = "Beyond A Border Solution") -> int:
    """A draft with one stored variant, as the digest stage leaves it."""
    html = (
        f"<html><body><h1>{title}</h1>"
        '<p><a href="https://demo.example.org/2023/05/beyond-a-border-solution/">Read more</a></p>'
        f"<p>Hi {html_marker('name')} "
        f'<a href="{html_marker("unsubscribe_url")}">Unsubscribe</a></p>'
        "</body></html>"
    )
    text = f"{title}\n\nHi {marker('name')}\nUnsubscribe: {marker('unsubscribe_url')}\n"
    with runtime.sessions.begin() as session:
        issue = factories.issue(
            BUILT,
            subject=title,
            preheader="This week",
            variants=[factories.variant(BUILT, html, text, subject=title)],
        )
        session.add(issue)
        session.flush()
        return issue.id


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session cookie header the app set."""
    token = csrf_of(client.get("/admin/login").text)
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/admin/issues"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers.get("set-cookie", "")


def confirmed(client: TestClient, url: str, data: dict[str, str]) -> Response:
    """POST an action that asks once more (approve, send now), then answer with the count shown."""
    asked = client.post(url, data=data)
    assert asked.status_code == 200, asked.text
    count = re.search(r'name="audience" value="(\d+)"', asked.text)
    assert count is not None, asked.text
    return client.post(url, data={**data, "audience": count[1]})


def stored_issue(runtime: Runtime, issue_id: int) -> Issue:
    """The issue as stored now (read in a session of its own)."""
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return issue


def send_test_from_page(page: Any, addresses: str) -> None:
    """Type the addresses on an issue's page and send the test, waiting for the answer.

    Enter in the field submits with the form's one button, as a person may; a click by position
    could land beside a button that the previews above it have just moved.
    """
    page.fill("#addresses", addresses)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/test")):
        page.press("#addresses", "Enter")
    page.wait_for_load_state("domcontentloaded")
