"""Rendering is pure: a Channel in, bytes out, valid by each spec for every post we store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.publish.channels import post_entry
from newsletter.publish.model import Category, Entry
from newsletter.publish.render import render
from tests import golden
from tests.publish.cases import channel as make_channel
from tests.publish.specs import CHECKS

DATA = Path(__file__).parent / "data"
SETTINGS = load_settings(site={"url": "https://news.example.org"})


def _entries_from(path: Path) -> list[Entry]:
    """posts.json holds posts as the collector stores them; post_entry turns them into entries."""
    from newsletter.models import Post, Topic

    entries = []
    for number, raw in enumerate(json.loads(path.read_text())):
        topics = [Topic(slug=s, name=n) for s, n in raw.pop("topics")]
        for key in ("published_at", "updated_at", "first_seen_at"):
            raw[key] = datetime.fromisoformat(raw[key])
        post = Post(id=number + 1, content_hash="0" * 64, **raw)
        post.topics = topics
        entries.append(post_entry(post, SETTINGS))
    return entries


def test_every_format_is_valid_for_the_worst_posts_we_store() -> None:
    from newsletter.models import Post
    from tests.publish.cases import NASTY, T0

    entries = []
    for number, case in enumerate(NASTY):
        values = {"teaser": "", "author_name": None, **case}
        if number == 4:
            values["title"] = "\x00" + values["title"]  # SQLite can store a NUL
        post = Post(
            id=number + 1,
            url=f"https://demo.example.org/{number}?a=1&b=2",
            content_hash="0",
            published_at=T0,
            updated_at=T0,
            first_seen_at=T0,
            **values,
        )
        post.topics = []
        entries.append(post_entry(post, SETTINGS))
    channel = make_channel(
        entries,
        hub_url="https://hub.example.org/",
        logo_url="https://news.example.org/logo.png",
    )
    bodies = render(channel)
    rss = CHECKS["rss"](bodies["rss"], channel.url("rss"))
    atom = CHECKS["atom"](bodies["atom"], channel.url("atom"))
    feed = CHECKS["json"](bodies["json"], channel.url("json"))
    for parsed in (rss, atom):
        titles = [entry.title for entry in parsed.entries]
        # Stored text, as readers see it, read back exactly by feedparser (RSS and Atom).
        assert titles[0] == "<em>Beyond</em> A Border <b>Solution</b>"
        assert titles[1] == "Fees & Fines: R&amp;D &lt;budget&gt;"
        assert titles[2] == "Families reunited 🎉👨‍👩‍👧"
        assert titles[3] == "اللجوء على الحدود"
        assert titles[4] == "Control chars in title"
        assert titles[8] == "https://demo.example.org/8?a=1&b=2"
        assert "\ufffe" not in titles[9]
        assert len(parsed.entries[5].summary) <= 1000
        assert parsed.entries[5].summary.endswith("…")
        body = parsed.entries[7].content[0].value
        assert "<script" not in body
        assert "onclick" not in body
        assert "<iframe" not in body
        assert 'href="/a?b=1&amp;c=2"' in body or 'href="/a?b=1&c=2"' in body
        assert "author" not in parsed.entries[6]
    assert [item["title"] for item in feed["items"]] == [e.title for e in entries]
    assert feed["items"][3]["authors"] == [{"name": "سارة"}]
    assert feed["items"][7]["image"].endswith("beyond-a-border-solution.png")
    assert "authors" not in feed["items"][6]
    assert "image" not in feed["items"][6]
    assert feed["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
    assert rss.feed.image.href == atom.feed.logo == "https://news.example.org/logo.png"
    hubs = [link.href for link in atom.feed.links if link.rel == "hub"]
    assert hubs == ["https://hub.example.org/"]
    assert [link.href for link in rss.feed.links if link.rel == "hub"] == hubs


def test_feeds_are_newest_first_as_given_and_keep_categories() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    entries = [
        Entry(f"tag:x,2026-01-01:posts/{n}", f"Post {n}", f"https://x.org/{n}", "", at, at)
        for n in (3, 2, 1)
    ]
    entries[0] = replace(entries[0], categories=(Category("asylum", "Asylum & Refuge"),))
    bodies = render(make_channel(entries))
    rss = CHECKS["rss"](bodies["rss"], "https://news.example.org/topics/asylum/feed.xml")
    assert [e.title for e in rss.entries] == ["Post 3", "Post 2", "Post 1"]
    assert [t.term for t in rss.entries[0].tags] == ["Asylum & Refuge"]
    feed = json.loads(bodies["json"])
    assert feed["items"][0]["tags"] == ["Asylum & Refuge"]


def test_an_empty_feed_is_still_valid() -> None:
    bodies = render(make_channel([]))
    for fmt, body in bodies.items():
        CHECKS[fmt](body, make_channel([]).url(fmt))


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_golden_representative_case(fmt: str) -> None:
    """The demo topic page's posts, byte for byte (tests/golden.py: regenerating fails)."""
    case = DATA / "representative"
    entries = _entries_from(case / "posts.json")
    channel = make_channel(entries, logo_url="https://news.example.org/logo.png")
    body = render(channel)[fmt]
    expected = case / channel.path(fmt).rsplit("/", 1)[1]
    CHECKS[fmt](body, channel.url(fmt))
    golden.check({expected: body})
