"""Stored text is what a browser shows: entities decoded once, no control characters, bylines split.

Every source kind is served for real (an HTML page read with selectors, RSS read by the fast
path and by feedparser, JSON Feed, the WordPress API) and pushed, and the stored posts compared.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.collect.run import collect
from newsletter.models import Post
from newsletter.web.app import create_app
from tests.collect.httpserver import Reply, http_server

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
JSON = {"Content-Type": "application/json"}
KEY = "push-key-for-text-tests-0123456789"
GREG = "BY GREG CHEN, DIRECTOR OF ADVOCACY, AMERICAN IMMIGRATION LAWYERS ASSOCIATION"
NAME, ROLE = "Greg Chen", "Director of Advocacy, American Immigration Lawyers Association"
TITLE = "café <b>not bold</b>"
TEASER = "applicants <under 18>? … &amp; more"

PAGE = f"""<!doctype html><html><head><title>Listing</title></head><body>
<article><h2><a href="https://page.example/one/">caf&eacute; &lt;b&gt;not bold&lt;/b&gt;</a></h2>
<p class="byline">{GREG}</p>
<div class="excerpt">applicants &lt;under 18&gt;? &hellip; &amp;amp; more\x0b<b>tab</b>&#11;end
</div>
</article></body></html>""".encode()

# The title looks like text to feedparser (no HTML tag in it), so its "<under 18>" is text.
# U+009D is a control character that feedparser's cp1252 mapping leaves alone.
RSS_FAST = f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>
<link>https://fast.example/</link><item><title>fast: applicants &lt;under 18&gt;?</title>
<link>https://fast.example/one/</link><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/"
>{GREG}</dc:creator><description>applicants &amp;lt;under 18&amp;gt;? … &amp;amp;amp; more
&amp;#11;and&#x9d; on</description></item></channel></rss>""".encode()

# An Atom feed (feedparser's): type="text" constructs are plain text, whatever they hold.
ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>A</title><id>urn:a</id><updated>2026-11-20T10:00:00Z</updated>
<entry><title type="text">atom: café &lt;b&gt;not bold&lt;/b&gt;</title><id>urn:a:1</id>
<link href="https://atom.example/one/"/><updated>2026-11-20T10:00:00Z</updated>
<author><name>BY SEAN MCDONALD, EDITOR</name></author>
<summary type="text">applicants &lt;under 18&gt;? … &amp;amp; more</summary></entry></feed>
""".encode()

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {
                "id": "j1",
                "url": "https://json.example/one/",
                "title": "json: café <b>not bold</b>",
                "summary": "applicants <under 18>? … &amp; more\u000bvt\u0085nel",
                "authors": [{"name": GREG}],
            }
        ],
    }
).encode()

WORDPRESS = json.dumps(
    [
        {
            "link": "https://wp.example/one/",
            "title": {"rendered": "wp: caf&eacute; &lt;b&gt;not bold&lt;/b&gt;"},
            "excerpt": {"rendered": "<p>applicants &lt;under 18&gt;? &#8230; &amp;amp; more</p>"},
            "_embedded": {"author": [{"name": "CONAN O&#039;BRIEN, HOST"}]},
        }
    ]
).encode()


def _routes() -> dict[str, Any]:
    return {
        "/page.html": Reply(PAGE, headers=HTML),
        "/fast.xml": Reply(RSS_FAST, headers=RSS),
        "/atom.xml": Reply(ATOM, headers={"Content-Type": "application/atom+xml"}),
        "/feed.json": Reply(JSON_FEED, headers=JSON),
        "/wp/wp-json/wp/v2/posts": Reply(WORDPRESS, headers=JSON),
    }


def _sources(base: str) -> list[dict[str, Any]]:
    selectors = {"item": "article", "title": "h2 a", "teaser": ".excerpt", "author": ".byline"}
    return [
        {"name": "page", "kind": "html", "url": f"{base}/page.html", "selectors": selectors},
        {"name": "fast", "kind": "feed", "url": f"{base}/fast.xml"},
        {"name": "atom", "kind": "feed", "url": f"{base}/atom.xml"},
        {"name": "json", "kind": "feed", "url": f"{base}/feed.json"},
        {"name": "wp", "kind": "wordpress", "url": f"{base}/wp"},
        {
            "name": "cms",
            "kind": "push",
            "api_key_sha256": hashlib.sha256(KEY.encode()).hexdigest(),
        },
    ]


def _posts(make_runtime: Any) -> dict[str, Post]:
    with http_server(_routes()) as server:
        runtime = make_runtime(_sources(server.base), collect={"retries": 0})
        report = collect(runtime)
    assert [(r.name, r.errors, r.skipped) for r in report.sources if r.errors or r.skipped] == []
    pushed = {
        "title": "push: caf&eacute; &lt;b&gt;not bold&lt;/b&gt;",
        "url": "https://push.example/one/",
        "excerpt": "<p>applicants &lt;under 18&gt;?\u000b&hellip; &amp;amp; more</p>",
        "author": "By Maria De La Cruz | Staff Writer",
    }
    answer = TestClient(create_app(runtime)).post(
        "/api/posts", json=pushed, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert answer.status_code == 201, answer.text
    with runtime.sessions() as session:
        posts = list(session.scalars(select(Post)))
        session.expunge_all()
    return {post.url.split("/")[2].split(".")[0]: post for post in posts}


def test_text_is_stored_as_a_browser_shows_it(make_runtime: Any) -> None:
    posts = _posts(make_runtime)
    assert posts["page"].title == TITLE
    assert posts["page"].teaser == f"{TEASER} tab end"
    assert posts["fast"].title == "fast: applicants <under 18>?"
    assert posts["fast"].teaser == f"{TEASER} and on"
    assert posts["atom"].title == f"atom: {TITLE}"
    assert posts["atom"].teaser == TEASER
    assert posts["json"].title == f"json: {TITLE}"
    assert posts["json"].teaser == f"{TEASER} vt nel"
    assert posts["wp"].title == f"wp: {TITLE}"
    assert posts["wp"].teaser == TEASER
    assert posts["push"].title == f"push: {TITLE}"
    assert posts["push"].teaser == "applicants <under 18>? … &amp; more"


def test_bylines_are_split_into_name_and_role_from_every_source(make_runtime: Any) -> None:
    posts = _posts(make_runtime)
    bylines = {key: (post.author_name, post.author_role) for key, post in posts.items()}
    assert bylines == {
        "page": (NAME, ROLE),
        "fast": (NAME, ROLE),
        "atom": ("Sean McDonald", "Editor"),
        "json": (NAME, ROLE),
        "wp": ("Conan O'Brien", "Host"),
        "push": ("Maria De La Cruz", "Staff Writer"),
    }


def test_no_stored_text_holds_a_control_character(make_runtime: Any) -> None:
    for post in _posts(make_runtime).values():
        for value in (post.title, post.teaser, post.author_name, post.author_role):
            text = value or ""
            assert not [c for c in text if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F], (post.url, text)
            assert "\ufffd" not in text
