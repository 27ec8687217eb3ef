"""The sources and topics screens without a browser: roles, CSRF, add, test, run, keys, topics."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.editors.models import Role
from newsletter.models import Post, Source, Topic
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.collect.conftest import BORDER_SELECTORS, NOW, demo_server
from tests.web.admin_helpers import csrf_of, make_editor, sign_in
from tests.web.live import runtime_at


@pytest.fixture
def demo() -> Iterator[str]:
    with demo_server.serving() as base:
        yield base


@pytest.fixture
def trusting(settings: Settings) -> Iterator[Runtime]:
    """The demo site lives on 127.0.0.1: the operator lists it in [collect] trusted_hosts."""
    collect = settings.collect.model_validate(
        {**settings.collect.model_dump(), "trusted_hosts": ["127.0.0.1"]}
    )
    runtime = runtime_at(settings.model_copy(update={"collect": collect}), FixedClock(NOW))
    yield runtime
    runtime.close()


def _client(runtime: Runtime, role: Role = Role.PUBLISHER) -> TestClient:
    client = TestClient(create_app(runtime), base_url="https://news.example.org")
    make_editor(runtime, "pub@example.org", role)
    sign_in(client, "pub@example.org")
    return client


def _html_source(demo: str, **extra: str) -> dict[str, str]:
    return {
        "name": "border",
        "kind": "html",
        "url": f"{demo}/topics/border-enforcement.html",
        "topics": "border-enforcement",
        **BORDER_SELECTORS,
        **extra,
    }


def test_an_editor_sees_sources_but_only_a_publisher_changes_them(trusting: Runtime) -> None:
    client = _client(trusting, Role.EDITOR)
    page = client.get("/admin/sources")
    assert page.status_code == 200
    assert "Add a source" not in page.text
    token = csrf_of(page.text)
    data = {"csrf_token": token, "name": "x", "kind": "feed", "url": "https://a.example.org/"}
    assert client.post("/admin/sources/new", data=data).status_code == 403
    assert (
        client.post(
            "/admin/topics", data={"csrf_token": token, "slug": "x", "name": "X"}
        ).status_code
        == 403
    )
    assert client.get("/admin/sources/new", follow_redirects=False).status_code == 403
    with trusting.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


def test_without_csrf_nothing_changes(trusting: Runtime) -> None:
    client = _client(trusting)
    for path in ("/admin/sources/new", "/admin/topics", "/admin/sources/test"):
        answer = client.post(path, data={"name": "x", "kind": "feed", "slug": "x"})
        assert answer.status_code == 403, path
    with trusting.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


def test_a_publisher_tests_selectors_adds_the_source_and_runs_it(
    trusting: Runtime, demo: str
) -> None:
    client = _client(trusting)
    token = csrf_of(client.get("/admin/sources/new").text)
    tried = client.post("/admin/sources/test", data={**_html_source(demo), "csrf_token": token})
    assert tried.status_code == 200
    assert "What these selectors find now" in tried.text
    assert re.search(r"\d+ items on", tried.text)
    assert "Beyond A Border Solution" in tried.text
    with trusting.sessions() as session:  # the tester stores nothing
        assert session.scalar(select(func.count()).select_from(Source)) == 0
        assert session.scalar(select(func.count()).select_from(Post)) == 0
    bad = client.post(
        "/admin/sources/test", data={**_html_source(demo, item="a[[["), "csrf_token": token}
    )
    assert "bad CSS selector" in bad.text
    added = client.post(
        "/admin/sources/new",
        data={**_html_source(demo), "csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 303
    page_url = added.headers["location"]
    page = client.get(page_url)
    assert "never run" in page.text
    ran = client.post(f"{page_url}/run", data={"csrf_token": token}, follow_redirects=False)
    assert ran.status_code == 303
    page = client.get(page_url)
    assert re.search(r"new [1-9]", page.text), page.text
    with trusting.sessions() as session:
        source = session.scalars(select(Source)).one()
        assert (source.edited_by, source.selectors, source.topics) == (
            "pub@example.org",
            BORDER_SELECTORS,
            ["border-enforcement"],
        )
        assert session.scalar(select(func.count()).select_from(Post)) > 0


def test_a_bad_source_is_shown_again_with_the_reason(trusting: Runtime) -> None:
    client = _client(trusting)
    token = csrf_of(client.get("/admin/sources/new").text)
    data = {"csrf_token": token, "name": "x", "kind": "feed", "url": "javascript:alert(1)"}
    answer = client.post("/admin/sources/new", data=data)
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert "javascript:alert(1)" not in answer.text.split('role="alert"')[1].split("</p>")[0]
    with trusting.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


def test_the_guard_refuses_an_editors_private_address(runtime: Runtime, demo: str) -> None:
    client = _client(runtime)  # no trusted_hosts: 127.0.0.1 is not for an editor to reach
    token = csrf_of(client.get("/admin/sources/new").text)
    tried = client.post("/admin/sources/test", data={**_html_source(demo), "csrf_token": token})
    assert "a loopback address" in tried.text
    assert "What these selectors find now" not in tried.text


def test_disable_edit_key_and_remove(trusting: Runtime) -> None:
    client = _client(trusting)
    token = csrf_of(client.get("/admin/sources/new").text)
    push = {"csrf_token": token, "name": "cms", "kind": "push", "topics": "asylum"}
    page_url = client.post("/admin/sources/new", data=push, follow_redirects=False).headers[
        "location"
    ]
    made = client.post(f"{page_url}/key", data={"csrf_token": token})
    key = re.search(r'<pre class="key">([^<]+)</pre>', made.text)
    assert key is not None
    assert key.group(1) not in client.get(page_url).text  # shown once
    post = {"title": "Pushed", "url": "https://demo.example.org/2026/11/pushed/"}
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    assert client.post("/api/posts", json=post, headers=auth).status_code == 201
    client.post(f"{page_url}/disable", data={"csrf_token": token})
    assert client.post("/api/posts", json=post, headers=auth).status_code == 403
    assert "disabled" in client.get("/admin/sources").text
    edit = {**push, "name": "cms-renamed"}
    client.post(f"{page_url}/edit", data=edit)
    with trusting.sessions() as session:
        source = session.scalars(select(Source)).one()
        assert (source.name, source.enabled) == ("cms-renamed", False)
    refused = client.post(f"{page_url}/remove", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "disable it instead" in refused.text


def test_topics_are_added_edited_and_removed(trusting: Runtime) -> None:
    client = _client(trusting)
    page = client.get("/admin/topics")
    assert "Border Enforcement" in page.text
    token = csrf_of(page.text)
    added = client.post(
        "/admin/topics",
        data={"csrf_token": token, "slug": "detention", "name": "Detention"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    bad = client.post("/admin/topics", data={"csrf_token": token, "slug": "Bad Slug", "name": "B"})
    assert bad.status_code == 422
    assert 'value="Bad Slug"' in bad.text  # the form comes back as typed
    with trusting.sessions() as session:
        topic = session.scalars(select(Topic).where(Topic.slug == "detention")).one()
    client.post(
        f"/admin/topics/{topic.id}",
        data={"csrf_token": token, "name": "Detention & Bonds", "description": "Who is held"},
    )
    assert "Detention &amp; Bonds" in client.get("/admin/topics").text
    removed = client.post(f"/admin/topics/{topic.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 200
    with trusting.sessions() as session:
        assert session.scalars(select(Topic).where(Topic.slug == "detention")).first() is None
