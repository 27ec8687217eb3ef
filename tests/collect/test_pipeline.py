"""The stages joined: collecting or a push rebuilds the feeds that changed, and only those.

Reads go through a fresh app each time: a web process may serve a feed up to a second stale
(publish/cache.py), as another process would.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from newsletter.pipeline.publishing import collect_and_publish
from newsletter.web.app import create_app
from tests.collect.conftest import demo_sources


def test_collecting_new_posts_rebuilds_their_feeds(make_runtime: Any, site: str) -> None:
    runtime = make_runtime(demo_sources(site)[:1])

    def client() -> TestClient:
        return TestClient(create_app(runtime))

    before = client().get("/topics/border-enforcement/feed.xml")
    assert "Some Hopeful, Early Signs" not in before.text

    report = collect_and_publish(runtime)

    assert report.changed
    after = client().get(
        "/topics/border-enforcement/feed.xml", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert "Some Hopeful, Early Signs" in after.text
    assert "Some Hopeful, Early Signs" in client().get("/feed.json").text
    # The asylum topic had nothing new from this source.
    assert "Some Hopeful" not in client().get("/topics/asylum/atom.xml").text

    again = collect_and_publish(runtime)
    assert not again.changed
    unchanged = client().get(
        "/topics/border-enforcement/feed.xml", headers={"If-None-Match": after.headers["etag"]}
    )
    assert unchanged.status_code == 304


def test_a_pushed_post_appears_in_the_feeds(make_runtime: Any) -> None:
    key = "push-key-for-pipeline-0123456789"
    runtime = make_runtime(
        [
            {
                "name": "cms",
                "kind": "push",
                "topics": ["asylum"],
                "api_key_sha256": hashlib.sha256(key.encode()).hexdigest(),
            }
        ]
    )
    client = TestClient(create_app(runtime))
    assert "Pushed today" not in client.get("/topics/asylum/feed.xml").text
    other = client.get("/topics/border-enforcement/feed.xml").headers["etag"]
    pushed = client.post(
        "/api/posts",
        json={
            "title": "Pushed today",
            "url": "https://demo.example.org/2026/11/pushed-today/",
            "excerpt": "Fresh words.",
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert pushed.status_code == 201
    fresh = TestClient(create_app(runtime))
    assert "Pushed today" in fresh.get("/topics/asylum/feed.xml").text
    assert "Pushed today" in fresh.get("/feed.xml").text
    # The other topic's feed is untouched: same bytes, same ETag, no needless refetch.
    assert fresh.get("/topics/border-enforcement/feed.xml").headers["etag"] == other
