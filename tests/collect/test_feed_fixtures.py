"""Every feed file in the repository: read by the path we expect, and the same by both paths.

collect/rss.py's fast path either reads a document (rss.parse returns its items) or returns
None and feedparser reads it. Each fixture is listed with the path it must take, so a change that
quietly sends the demo feed to feedparser (or a new fixture nobody classified) fails here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from newsletter.collect import feed, rss
from newsletter.collect.item import RawItem

ROOT = Path(__file__).resolve().parents[2]
URL = "https://news.example.org/feeds/main.xml"
FAST, FEEDPARSER = "fast path", "feedparser"

PATHS = {
    "examples/site/feed.xml": FAST,
    # Atom is feedparser's alone.
    "tests/publish/data/representative/atom.xml": FEEDPARSER,
    # Our own RSS: media:content and categories with a domain are feedparser's to read.
    "tests/publish/data/representative/feed.xml": FEEDPARSER,
}


def _fixtures() -> list[str]:
    found = [*ROOT.glob("examples/**/*.xml"), *ROOT.glob("tests/**/data/**/*.xml")]
    return sorted(str(path.relative_to(ROOT)) for path in found)


def _by_feedparser(content: bytes, monkeypatch: pytest.MonkeyPatch) -> list[RawItem]:
    with monkeypatch.context() as patch:
        patch.setattr(rss, "parse", lambda *args: None)
        return feed.parse(content, URL)[0]


def test_every_fixture_is_listed_with_its_path() -> None:
    assert _fixtures() == sorted(PATHS)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_every_feed_fixture_takes_its_path_and_reads_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = (ROOT / name).read_bytes()
    fast = rss.parse(content, URL, {"content-location": URL})
    assert (FEEDPARSER if fast is None else FAST) == PATHS[name]
    parsed = feed.parse(content, URL)
    assert (parsed.error, parsed.warning) == (None, None)
    assert parsed.items
    assert [dataclasses.asdict(i) for i in parsed.items] == [
        dataclasses.asdict(i) for i in _by_feedparser(content, monkeypatch)
    ]
