"""A feed read in full but not cleanly (HTML entities, a wrong charset) is a warning, not an error.

feedparser reads such feeds completely (bozo set); what it could not read completely stays an
error. Served for real, collected by the real command, shown by `newsletter sources`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.collect import feed
from newsletter.collect.run import collect
from newsletter.models import Post, Source
from tests.cli.process import run as cli
from tests.collect.httpserver import Reply, http_server

RSS = {"Content-Type": "application/rss+xml"}
URL = "https://news.example.org/feed.xml"


def rss(items: str, head: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{head}<rss version="2.0"><channel><title>CMS&nbsp;news</title>'
        f"<link>https://cms.example/</link>{items}</channel></rss>"
    ).encode()


ITEMS = (
    "<item><title>One&nbsp;story &mdash; told</title><link>https://cms.example/1/</link>"
    "<description>Words&nbsp;here &amp;amp; more</description></item>"
    "<item><title>Two</title><link>https://cms.example/2/</link></item>"
)
ENTITIES = rss(ITEMS)
CLEAN = ENTITIES.replace(b"&nbsp;", b" ").replace(b"&mdash;", "—".encode())
# The same entities, and then the document is cut off: entries may be missing.
CUT = ENTITIES[: ENTITIES.index(b"<item><title>Two")] + b"<item><title>Tw"


def test_html_entities_are_a_warning_and_every_entry_is_read() -> None:
    parsed = feed.parse(ENTITIES, URL, RSS)
    assert parsed.error is None
    assert parsed.warning is not None
    assert "HTML entity names" in parsed.warning
    assert [item.title for item in parsed.items] == ["One\xa0story — told", "Two"]


def test_html_entities_in_a_cut_off_feed_are_still_an_error() -> None:
    parsed = feed.parse(CUT, URL, RSS)
    assert parsed.warning is None
    assert parsed.error is not None
    assert "malformed feed" in parsed.error


def test_a_misdeclared_charset_is_a_warning_and_the_text_is_right() -> None:
    content = rss("<item><title>Café</title><link>https://cms.example/c/</link></item>")
    content = content.replace(b"&nbsp;", b" ")
    parsed = feed.parse(content, URL, {"Content-Type": "application/rss+xml; charset=us-ascii"})
    assert (parsed.error, parsed.items[0].title) == (None, "Café")
    assert parsed.warning is not None
    assert "declared encoding was wrong" in parsed.warning
    # text/xml without a charset was US-ASCII only until RFC 7303: nothing to tell.
    assert feed.parse(content, URL, {"Content-Type": "text/xml"}).warning is None


def test_the_warning_is_recorded_and_cleared_by_a_clean_read(make_runtime: Any) -> None:
    served = {"/feed.xml": Reply(ENTITIES, headers=RSS)}
    with http_server(served) as server:
        runtime = make_runtime([{"name": "cms", "kind": "feed", "url": f"{server.base}/feed.xml"}])
        first = collect(runtime).sources[0]
        with runtime.sessions() as session:
            source = session.scalars(select(Source)).one()
            warned = (source.last_warning, source.last_warning_at, source.last_error)
            titles = set(session.scalars(select(Post.title)))
        served["/feed.xml"] = Reply(CLEAN, headers=RSS)
        second = collect(runtime).sources[0]
        with runtime.sessions() as session:
            source = session.scalars(select(Source)).one()
            cleared = (source.last_warning, source.last_error)
    assert (first.errors, first.warnings, first.error) == (0, 1, None)
    assert first.counts().endswith("errors 0, warnings 1")
    assert "HTML entity names" in (warned[0] or "")
    assert warned[1] is not None
    assert warned[2] is None
    assert titles == {"One story — told", "Two"}
    assert (second.errors, second.warnings) == (0, 0)
    assert cleared == (None, None)


@pytest.mark.slow  # real `newsletter` processes
def test_collect_succeeds_and_sources_shows_the_warning(tmp_path: Path) -> None:
    with http_server({"/feed.xml": Reply(ENTITIES, headers=RSS)}) as server:
        config = tmp_path / "newsletter.toml"
        config.write_text(
            f'[collect]\nretries = 0\n[[sources]]\nname = "cms"\nkind = "feed"\n'
            f'url = "{server.base}/feed.xml"\n'
        )
        env = {"NEWSLETTER_CONFIG": str(config)}
        assert cli("init", env=env).returncode == 0
        collected = cli("collect", env=env)
        listed = cli("sources", env=env)
    assert collected.returncode == 0, collected.stderr
    assert re.search(r"^cms +new 2, .*errors 0, warnings 1$", collected.stdout, re.MULTILINE)
    assert listed.returncode == 0
    assert "last error" not in listed.stdout
    assert "skipped:" not in listed.stdout
    warning = [line for line in listed.stdout.splitlines() if line.strip().startswith("warning:")]
    assert len(warning) == 1
    assert "read in full, but uses HTML entity names" in warning[0]
