"""The special-issue screens' rules: sign-in, CSRF, GET changes nothing, errors keep the form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from newsletter.clock import FixedClock
from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.factories import add_post, add_topics
from tests.web.admin_helpers import csrf_of, make_editor, sign_in

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "the-wall", NOW - timedelta(hours=2), [topics["asylum"]])
        add_post(session, "old-news", NOW - timedelta(days=60), [topics["asylum"]])
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    return TestClient(create_app(runtime), base_url="https://news.example.org")


def _breaking(client: TestClient) -> Response:
    """A breaking-news draft about the first post, made through the form."""
    token = csrf_of(client.get("/admin/issues/new").text)
    made: Response = client.post(
        "/admin/issues/new",
        data={"csrf_token": token, "kind": "breaking", "post_id": "1"},
        follow_redirects=False,
    )
    return made


def _issues(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Issue)) or 0


def test_signed_out_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/admin/issues/new", follow_redirects=False)
    assert response.status_code in (303, 307)
    assert "/admin/login" in response.headers["location"]


def test_the_picker_lists_recent_posts_and_searches_without_changing_anything(
    client: TestClient, runtime: Runtime
) -> None:
    sign_in(client, "ed@example.org")
    page = client.get("/admin/issues/new").text
    assert "The Wall" in page
    assert "Old News" not in page  # older than 30 days
    assert "The Wall" not in client.get("/admin/issues/new", params={"q": "nothing%_"}).text
    assert "The Wall" in client.get("/admin/issues/new", params={"q": "WALL"}).text
    assert _issues(runtime) == 0


def test_a_post_without_its_csrf_token_is_refused(client: TestClient, runtime: Runtime) -> None:
    sign_in(client, "ed@example.org")
    response = client.post("/admin/issues/new", data={"kind": "appeal", "subject": "S"})
    assert response.status_code == 403
    assert _issues(runtime) == 0


def test_an_error_keeps_what_was_typed_and_a_fix_creates_the_draft(
    client: TestClient, runtime: Runtime
) -> None:
    sign_in(client, "ed@example.org")
    token = csrf_of(client.get("/admin/issues/new?kind=appeal").text)
    typed = {
        "csrf_token": token,
        "kind": "appeal",
        "subject": "Dear readers",
        "body_markdown": "We need <b>you</b>.",
        "topics": "asylum",
        "cta_label": "Give",
        "cta_url": "ftp://example.org/give",
    }
    refused = client.post("/admin/issues/new", data=typed)
    assert refused.status_code == 400
    assert "starting with https://" in refused.text
    assert "We need &lt;b&gt;you&lt;/b&gt;." in refused.text
    assert 'value="ftp://example.org/give"' in refused.text
    assert _issues(runtime) == 0
    made = client.post(
        "/admin/issues/new",
        data={**typed, "cta_url": "https://example.org/give"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    issue_page = client.get(made.headers["location"]).text
    assert "Readers of Asylum" in issue_page
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    # Its own edit form saves, and a weekly issue has none.
    edit = client.get(f"/admin/issues/{issue.id}/special").text
    saved = client.post(
        f"/admin/issues/{issue.id}/special",
        data={**typed, "csrf_token": csrf_of(edit), "cta_url": "", "cta_label": ""},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with runtime.sessions() as session:
        again = session.get(Issue, issue.id)
        assert again is not None
        assert again.cta_url is None
        assert again.audience == "asylum"


def test_the_issues_list_shows_the_kind_and_the_new_link(client: TestClient) -> None:
    sign_in(client, "ed@example.org")
    assert _breaking(client).status_code == 303
    listing = client.get("/admin/issues").text
    assert 'href="/admin/issues/new"' in listing
    assert "Breaking news" in listing


def test_a_special_draft_is_proposed_for_now_not_the_weekly_slot(
    client: TestClient, runtime: Runtime
) -> None:
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    sign_in(client, "pub@example.org")
    page = client.get(_breaking(client).headers["location"]).text
    now = NOW.astimezone(runtime.settings.zone).strftime("%Y-%m-%dT%H:%M")
    assert f'name="send_at" value="{now}"' in page
