"""Public pages: each topic's page (the home its feeds link to), feed discovery once per feed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import feedparser
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.digest.build import build_issue
from newsletter.models import Issue, IssueStatus
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import NoNotifier
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.factories import add_post, add_topics

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
HTML = {"Accept": "text/html"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "alternate":
            self.alternates.append((found.get("type") or "", found.get("href") or ""))


def alternates(page: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(page)
    return parser.alternates


def _site(runtime: Runtime) -> str:
    """Topics, two asylum stories (one with markup-like text), and one sent issue's key."""
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "older-story", NOW - timedelta(days=3), [topics["asylum"]])
        add_post(
            session,
            "newer-story",
            NOW - timedelta(days=1),
            [topics["asylum"]],
            title="Fees <rising> & AT&T;",
        )
        add_post(session, "border-story", NOW - timedelta(days=2), [topics["border-enforcement"]])
        key = build_issue(session, runtime.settings, NOW).key
        issue = session.scalars(select(Issue).where(Issue.key == key)).one()
        issue.status, issue.sent_at = IssueStatus.SENT, NOW
    return key


def test_a_topic_page_lists_its_newest_stories_and_feeds(runtime: Runtime) -> None:
    _site(runtime)
    page = TestClient(create_app(runtime)).get("/topics/asylum")
    assert page.status_code == 200
    assert "<h1>Asylum</h1>" in page.text
    assert page.text.index("https://news.example.org/newer-story/") < page.text.index(
        "https://news.example.org/older-story/"
    )
    assert "border-story" not in page.text
    assert "Fees &lt;rising&gt; &amp; AT&amp;T;" in page.text
    found = alternates(page.text)
    for file, media_type in (
        ("feed.xml", "application/rss+xml"),
        ("atom.xml", "application/atom+xml"),
        ("feed.json", "application/feed+json"),
    ):
        assert (media_type, f"/topics/asylum/{file}") in found
        assert (media_type, f"/{file}") in found
    assert 'href="/subscribe"' in page.text


def test_an_unknown_topic_page_is_a_404(runtime: Runtime) -> None:
    _site(runtime)
    page = TestClient(create_app(runtime)).get("/topics/no-such-topic", headers=HTML)
    assert page.status_code == 404
    assert "no topic called &#39;no-such-topic&#39;" in page.text


def test_every_topic_feed_links_home_to_a_page_that_answers(runtime: Runtime) -> None:
    _site(runtime)
    rebuild(runtime, None, NoNotifier())
    client = TestClient(create_app(runtime))
    for slug in ("asylum", "border-enforcement"):
        for file in ("feed.xml", "atom.xml", "feed.json"):
            parsed = feedparser.parse(client.get(f"/topics/{slug}/{file}").content)
            home = (
                parsed.feed.get("link")
                or client.get(f"/topics/{slug}/{file}").json()["home_page_url"]
            )
            assert home == f"https://news.example.org/topics/{slug}"
            assert client.get(urlsplit(home).path, headers=HTML).status_code == 200


def test_no_page_lists_a_feed_twice(runtime: Runtime) -> None:
    key = _site(runtime)
    client = TestClient(create_app(runtime))
    for path in ("/", "/archive", f"/archive/{key}", "/topics/asylum", "/subscribe", "/nowhere"):
        page = client.get(path, headers=HTML)
        found = alternates(page.text)
        assert ("application/rss+xml", "/feed.xml") in found, path
        twice = [link for link, count in Counter(found).items() if count > 1]
        assert twice == [], path
    assert ("application/rss+xml", "/archive/feed.xml") in alternates(client.get("/archive").text)


def test_pages_without_secrets_go_out_gzipped(runtime: Runtime) -> None:
    key = _site(runtime)
    client = TestClient(create_app(runtime))
    gzip = {**HTML, "Accept-Encoding": "gzip"}
    for path in ("/", "/archive", f"/archive/{key}", "/topics/asylum"):
        page = client.get(path, headers=gzip)
        assert page.headers.get("content-encoding") == "gzip", path
        assert page.headers["vary"] == "Accept-Encoding"
        assert "</html>" in page.text  # httpx decoded it
        identity = client.get(path, headers=HTML | {"Accept-Encoding": "identity"})
        assert "content-encoding" not in identity.headers
    # A page with a CSRF field stays uncompressed: its size must not leak the token (BREACH).
    assert "content-encoding" not in client.get("/subscribe", headers=gzip).headers


def test_the_favicon_is_the_sites_initial_on_its_accent_colour(runtime: Runtime) -> None:
    runtime.settings.site.name = "&amp News"  # an initial that must be escaped in the SVG
    icon = TestClient(create_app(runtime)).get("/favicon.svg")
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert 'fill="#0b5cab"' in icon.text
    assert ">&amp;</text>" in icon.text
