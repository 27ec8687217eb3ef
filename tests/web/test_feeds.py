"""Feed routes: stored bytes, validators, 304s, HEAD, 404s, discovery, and many processes."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.models import Post, Topic
from newsletter.publish.cache import FeedCache
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import NoNotifier
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.publish.cases import NASTY, T0, add_posts
from tests.publish.specs import CHECKS

PATHS = {
    "/feed.xml": ("rss", "application/rss+xml; charset=utf-8"),
    "/atom.xml": ("atom", "application/atom+xml; charset=utf-8"),
    "/feed.json": ("json", "application/feed+json; charset=utf-8"),
    "/topics/asylum/feed.xml": ("rss", "application/rss+xml; charset=utf-8"),
    "/topics/asylum/atom.xml": ("atom", "application/atom+xml; charset=utf-8"),
    "/topics/asylum/feed.json": ("json", "application/feed+json; charset=utf-8"),
    "/archive/feed.xml": ("rss", "application/rss+xml; charset=utf-8"),
}


def _posts(runtime: Runtime) -> None:
    runtime.clock = FixedClock(T0 + timedelta(days=1))
    with runtime.sessions.begin() as session:
        topic = Topic(slug="asylum", name="Asylum", description="")
        add_posts(session, NASTY, [topic])


def test_every_feed_is_served_valid_with_validators(runtime: Runtime) -> None:
    _posts(runtime)
    rebuild(runtime, None, NoNotifier())
    client = TestClient(create_app(runtime))
    for path, (fmt, media_type) in PATHS.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == media_type
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["etag"].startswith('"')
        assert response.headers["last-modified"].endswith(" GMT")
        CHECKS[fmt](response.content, runtime.settings.site.base_url + path)


def test_conditional_requests_answer_304(runtime: Runtime) -> None:
    _posts(runtime)
    rebuild(runtime, None, NoNotifier())
    client = TestClient(create_app(runtime))
    first = client.get("/feed.xml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get("/feed.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=300"
    assert client.get("/feed.xml", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get("/feed.xml", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feed.xml", headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(runtime.clock.now() - timedelta(days=30), usegmt=True)
    assert client.get("/feed.xml", headers={"If-Modified-Since": earlier}).status_code == 200
    # A stale ETag wins over a fresh date (RFC 9110 13.2.2).
    stale = {"If-None-Match": '"old"', "If-Modified-Since": modified}
    assert client.get("/feed.xml", headers=stale).status_code == 200
    assert client.get("/feed.xml", headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_head_gives_the_headers_without_the_body(runtime: Runtime) -> None:
    _posts(runtime)
    rebuild(runtime, None, NoNotifier())
    client = TestClient(create_app(runtime))
    full = client.get("/topics/asylum/feed.json")
    head = client.head("/topics/asylum/feed.json")
    assert head.status_code == 200
    assert head.content == b""
    # The client asks for gzip: the length is the compressed body's, as sent.
    assert head.headers["content-encoding"] == full.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == full.headers["content-length"]
    assert head.headers["etag"] == full.headers["etag"]
    assert client.post("/feed.xml").status_code == 405


def test_max_age_is_configurable(runtime: Runtime) -> None:
    _posts(runtime)
    runtime.settings.feeds.max_age = 60
    rebuild(runtime, None, NoNotifier())
    response = TestClient(create_app(runtime)).get("/atom.xml")
    assert response.headers["cache-control"] == "public, max-age=60"


def test_an_unknown_topic_is_a_short_404_page(runtime: Runtime) -> None:
    _posts(runtime)
    client = TestClient(create_app(runtime))
    page = client.get("/topics/no-such-topic/feed.xml", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "no topic called &#39;no-such-topic&#39;" in page.text
    assert "Traceback" not in page.text


def test_a_feed_never_built_is_built_once_then_stored(runtime: Runtime) -> None:
    _posts(runtime)
    client = TestClient(create_app(runtime))
    response = client.get("/topics/asylum/feed.xml")
    assert response.status_code == 200
    CHECKS["rss"](response.content, runtime.settings.site.base_url + "/topics/asylum/feed.xml")
    assert rebuild(runtime, None, NoNotifier()) == []  # already stored by that first request


def test_every_process_serves_the_bytes_in_the_database(runtime: Runtime) -> None:
    _posts(runtime)
    rebuild(runtime, None, NoNotifier())
    ticks = [0.0]
    other = Runtime.build(runtime.settings, runtime.clock)  # a second web process's own pool
    app = create_app(other)
    app.state.feed_cache = FeedCache(
        other.sessions, revalidate_after=1.0, monotonic=lambda: ticks[0]
    )
    client = TestClient(app)
    before = client.get("/feed.xml")
    with runtime.sessions.begin() as session:
        post = session.scalars(select(Post).order_by(Post.id)).first()
        assert post is not None
        post.title = "Rebuilt by the collector's process"
    runtime.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    rebuild(runtime, None, NoNotifier())
    assert client.get("/feed.xml").content == before.content  # held in memory for a second
    ticks[0] = 1.5
    after = client.get("/feed.xml")
    assert after.headers["etag"] != before.headers["etag"]
    assert b"Rebuilt by the collector" in after.content
    other.close()


def test_every_page_carries_feed_discovery_links(runtime: Runtime) -> None:
    page = TestClient(create_app(runtime)).get("/")
    for href, media_type in (
        ("/feed.xml", "application/rss+xml"),
        ("/atom.xml", "application/atom+xml"),
        ("/feed.json", "application/feed+json"),
    ):
        assert f'<link rel="alternate" type="{media_type}"' in page.text
        assert f'href="{href}"' in page.text
    missing = TestClient(create_app(runtime)).get("/nowhere", headers={"Accept": "text/html"})
    assert 'href="/feed.xml"' in missing.text
