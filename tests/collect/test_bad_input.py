"""Bad sources and entries are skipped with a recorded reason; everything else carries on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from newsletter.collect.run import collect
from newsletter.models import CollectSkip, Post, Source
from tests.collect.httpserver import Reply, http_server

GOOD_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Good</title><link>https://good.example/</link>
<item><title>A fine post</title><link>https://good.example/fine/</link>
<description>Fine words.</description></item>
<item><title>No link here</title><description>Lost.</description></item>
<item><link>https://good.example/untitled/</link><description>No title.</description></item>
<item><title>From the far future</title><link>https://good.example/future/</link>
<pubDate>Fri, 31 Dec 9999 23:59:59 +0000</pubDate></item>
</channel></rss>"""

# Characters XML 1.0 forbids: the feed is malformed, its entries are still read, cleaned.
CONTROL_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Ctl</title><link>https://good.example/</link>
<item><title>Control\x01 characters\x1b</title><link>https://good.example/ctl/</link>
<description>bad\x08 bytes</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><id>urn:a</id>
<updated>2026-11-20T10:00:00Z</updated>
<entry><title>Atom post</title><link href="https://good.example/atom/"/><id>urn:a:1</id>
<updated>2026-11-20T10:00:00Z</updated><summary>Atom words.</summary></entry></feed>"""

JSON_FEED = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "J",
"items": [{"id": "j1", "url": "https://good.example/json/", "title": "JSON post",
"content_html": "<p>JSON words.</p>", "date_published": "2026-11-21T10:00:00Z"}]}"""

LATIN1_PAGE = (
    "<html><head><meta charset='utf-8'></head><body><article><h2><a href='/caf\u00e9/'>"
    "Caf\u00e9 crisis</a></h2><p class='excerpt'>Na\u00efve words.</p></article></body></html>"
).encode("latin-1")


def _sources(base: str) -> list[dict[str, Any]]:
    html = {"item": "article", "title": "h2 a", "link": "h2 a", "teaser": ".excerpt"}
    return [
        {"name": "malformed", "kind": "feed", "url": f"{base}/malformed.xml"},
        {"name": "not-html", "kind": "html", "url": f"{base}/image.png", "selectors": html},
        {"name": "huge", "kind": "html", "url": f"{base}/huge.html", "selectors": html},
        {"name": "good", "kind": "feed", "url": f"{base}/good.xml"},
        {"name": "control", "kind": "feed", "url": f"{base}/control.xml"},
        {"name": "garbage", "kind": "feed", "url": f"{base}/image.png"},
        {"name": "atom", "kind": "feed", "url": f"{base}/atom.xml"},
        {"name": "json", "kind": "feed", "url": f"{base}/feed.json"},
        {"name": "latin1", "kind": "html", "url": f"{base}/latin1.html", "selectors": html},
    ]


ROUTES = {
    "/malformed.xml": Reply(
        b"<rss><channel><item><title>Broken", headers={"Content-Type": "application/rss+xml"}
    ),
    "/image.png": Reply(b"\x89PNG\r\n\x1a\n\x00\x00", headers={"Content-Type": "image/png"}),
    "/huge.html": Reply(b"<html>" + b"x" * 10_000_000, headers={"Content-Type": "text/html"}),
    "/good.xml": Reply(GOOD_FEED, headers={"Content-Type": "application/rss+xml"}),
    "/control.xml": Reply(CONTROL_FEED, headers={"Content-Type": "application/rss+xml"}),
    "/atom.xml": Reply(ATOM, headers={"Content-Type": "application/atom+xml"}),
    "/feed.json": Reply(JSON_FEED, headers={"Content-Type": "application/feed+json"}),
    # Declared UTF-8, sent as Latin-1: a few characters are replaced, the page is not lost.
    "/latin1.html": Reply(LATIN1_PAGE, headers={"Content-Type": "text/html; charset=utf-8"}),
}


def test_bad_sources_and_entries_are_skipped_with_reasons(make_runtime: Any) -> None:
    with http_server(ROUTES) as server:
        runtime = make_runtime(_sources(server.base), collect={"retries": 0})
        report = collect(runtime)
    by_name = {r.name: r for r in report.sources}
    # feedparser reads what it can of a broken feed; the source says it is malformed.
    malformed = by_name["malformed"]
    assert (malformed.new, malformed.skipped, malformed.errors) == (0, 1, 1)
    assert "not an HTML page (image/png)" in (by_name["not-html"].error or "")
    assert "not a readable feed" in (by_name["garbage"].error or "")
    assert "cap" in (by_name["huge"].error or "")
    good = by_name["good"]
    assert (good.new, good.skipped, good.errors) == (1, 3, 0)
    assert (by_name["control"].new, by_name["control"].errors) == (1, 1)
    assert (by_name["atom"].new, by_name["json"].new, by_name["latin1"].new) == (1, 1, 1)

    with runtime.sessions() as session:
        titles = set(session.scalars(select(Post.title)))
        reasons = {
            (source, reason)
            for source, reason in session.execute(
                select(Source.name, CollectSkip.reason).join(Source)
            )
        }
        errors = dict(session.execute(select(Source.name, Source.last_error)).all())
    assert {"A fine post", "Control characters", "Atom post", "JSON post"} <= titles
    assert any("Caf" in title and "crisis" in title for title in titles)
    assert ("good", "entry has no link") in reasons
    assert ("good", "entry has no title") in reasons
    assert any(name == "good" and "out of range" in why for name, why in reasons)
    assert "malformed feed" in (errors["malformed"] or "")
    assert errors["huge"]
    assert errors["not-html"]
    assert errors["good"] is None


def test_a_source_that_breaks_later_keeps_what_it_stored(make_runtime: Any) -> None:
    routes = {"/good.xml": ROUTES["/good.xml"]}
    with http_server(routes) as server:
        runtime = make_runtime(
            [{"name": "good", "kind": "feed", "url": f"{server.base}/good.xml"}],
            collect={"retries": 0},
        )
        collect(runtime)
        routes["/good.xml"] = Reply(b"oops", 500)
        report = collect(runtime)
    assert report.sources[0].error is not None
    assert "HTTP 500" in report.sources[0].error
    with runtime.sessions() as session:
        assert len(session.scalars(select(Post)).all()) == 1
        source = session.scalars(select(Source)).one()
    assert source.last_success_at is not None
    assert "HTTP 500" in (source.last_error or "")
