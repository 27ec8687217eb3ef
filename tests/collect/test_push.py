"""POST /api/posts: per-source API keys, validation, and the same normalise/store path."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.models import Post
from newsletter.web.app import create_app
from tests.collect.conftest import NOW

KEY = "push-key-for-tests-0123456789"


def _client(make_runtime: Any, enabled: bool = True) -> tuple[TestClient, Any]:
    runtime = make_runtime(
        [
            {
                "name": "cms",
                "kind": "push",
                "topics": ["asylum"],
                "enabled": enabled,
                "api_key_sha256": hashlib.sha256(KEY.encode()).hexdigest(),
            }
        ]
    )
    return TestClient(create_app(runtime)), runtime


POST = {
    "title": "Pushed &amp; new",
    "url": "https://demo.example.org/2026/11/pushed/?utm_source=cms#top",
    "excerpt": "<p>Fresh words. <a href='/x'>Read More</a></p>",
    "content_html": "<p>Body<script>alert(1)</script></p>",
    "published_at": "2026-11-25T09:00:00-05:00",
    "categories": ["Border Enforcement"],
}


def test_a_pushed_post_is_normalised_and_stored_once(make_runtime: Any) -> None:
    client, runtime = _client(make_runtime)
    auth = {"Authorization": f"Bearer {KEY}"}
    first = client.post("/api/posts", json=POST, headers=auth)
    again = client.post("/api/posts", json=POST, headers=auth)
    edited = client.post("/api/posts", json={**POST, "title": "Pushed, edited"}, headers=auth)
    assert (first.status_code, first.json()["outcome"]) == (201, "new")
    assert again.json()["outcome"] == "duplicate"
    assert edited.json() == {"id": first.json()["id"], "outcome": "updated"}
    with runtime.sessions() as session:
        post = session.scalars(select(Post)).one()
        topics = [topic.slug for topic in post.topics]
    assert post.url == "https://demo.example.org/2026/11/pushed/"
    assert post.title == "Pushed, edited"
    assert post.teaser == "Fresh words."
    assert post.body_html == "<p>Body</p>"
    assert topics == ["asylum", "border-enforcement"]
    assert post.first_seen_at == NOW
    assert not post.announced


def test_wrong_or_missing_key_is_refused(make_runtime: Any) -> None:
    client, runtime = _client(make_runtime)
    assert client.post("/api/posts", json=POST).status_code == 401
    wrong = client.post("/api/posts", json=POST, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    with runtime.sessions() as session:
        assert session.scalars(select(Post)).all() == []


def test_disabled_source_and_bad_bodies(make_runtime: Any) -> None:
    client, _ = _client(make_runtime, enabled=False)
    assert client.post("/api/posts", json=POST, headers={"X-API-Key": KEY}).status_code == 403
    client, _ = _client(make_runtime)
    auth = {"X-API-Key": KEY}
    assert client.post("/api/posts", json={"title": "x"}, headers=auth).status_code == 422
    future = {**POST, "published_at": "9999-01-01T00:00:00Z"}
    response = client.post("/api/posts", json=future, headers=auth)
    assert response.status_code == 422
    assert "out of range" in response.json()["error"]


def test_a_story_added_by_hand_becomes_the_sites_own_once_a_source_brings_it(
    make_runtime: Any,
) -> None:
    """An editor added this address to an issue by hand; then the CMS pushes the same story."""
    client, runtime = _client(make_runtime)
    with runtime.sessions.begin() as session:
        session.add(
            Post(
                url="https://demo.example.org/2026/11/pushed/",
                content_hash="0" * 64,
                title="Added by hand",
                published_at=NOW,
                updated_at=NOW,
                first_seen_at=NOW,
                added_by="ed@example.org",
            )
        )
    response = client.post("/api/posts", json=POST, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code < 300, response.text
    with runtime.sessions() as session:
        [post] = session.scalars(select(Post)).all()
        assert post.added_by is None  # now on the site's pages and feeds
