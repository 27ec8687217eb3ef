"""The lxml fast path for RSS 2.0 gives exactly what feedparser gives, or steps aside for it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from newsletter.collect import feed, rss
from newsletter.collect.item import RawItem

ROOT = Path(__file__).resolve().parents[2]
URL = "https://news.example.org/feeds/main.xml"
NS = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/"'
)


def _rss(items: str, head: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{head}<rss version="2.0" {NS}><channel><title>T</title>'
        f"<link>https://news.example.org/</link>{items}</channel></rss>"
    ).encode()


# Each is read by the fast path; the test proves feedparser reads it the same.
FAST = {
    "entities and CDATA": _rss(
        "<item><title>DHS&#8217;s &amp; ICE&apos;s &lt;plan&gt;</title>"
        "<link>https://x.example/a?utm_source=f&amp;b=2</link>"
        "<description><![CDATA[<p>Teaser &#8212; <a href='/rel'>Read More</a></p>]]></description>"
        "<pubDate>Tue, 02 May 2023 08:00:00 -0400</pubDate></item>"
    ),
    "escaped html and content": _rss(
        "<item><title>Plain</title><link>/relative/path</link>"
        "<description>&lt;p&gt;Escaped &amp;amp; "
        "&lt;a href=&quot;x.html&quot;&gt;link&lt;/a&gt;&lt;/p&gt;"
        "</description><content:encoded><![CDATA[<p>Body <img src='i.png'> "
        "<script>x()</script></p>]]></content:encoded>"
        "<dc:creator><![CDATA[Editorial Staff]]></dc:creator>"
        "<category>Asylum</category><category> Border Enforcement </category>"
        "<wfw:commentRss>https://x.example/c</wfw:commentRss><comments>c</comments></item>"
    ),
    "html-looking title": _rss(
        "<item><title>&lt;a href='/x'&gt;A&lt;/a&gt; &amp;amp; &lt;em&gt;B&lt;/em&gt;</title>"
        "<link>https://x.example/t</link></item>"
    ),
    "content without description": _rss(
        "<item><title>Only body</title><link>https://x.example/b</link>"
        "<content:encoded><![CDATA[<p>All <b>here</b></p>]]></content:encoded></item>"
    ),
    "missing fields": _rss(
        "<item><title>No link, guid is one</title><guid>https://x.example/g</guid></item>"
        '<item><guid isPermaLink="false">urn:x:1</guid><description>untitled</description></item>'
        '<item><title></title><guid isPermaLink="true">/rel-guid</guid></item>'
        "<item><link>https://x.example/only-link</link></item><item></item>"
    ),
    "dates in several formats": _rss(
        "".join(
            f"<item><title>d{n}</title><link>https://x.example/d{n}</link>"
            f"<pubDate>{when}</pubDate></item>"
            for n, when in enumerate(
                [
                    "Tue, 02 May 2023 08:00:00 GMT",
                    "2 May 2023 08:00 EDT",
                    "2023-05-02T08:00:00Z",
                    "2023-05-02T08:00:00+02:00",
                    "2023-05-02",
                    "May 2, 2023",
                    "Fri, 31 Dec 9999 23:59:59 +0000",
                    "not a date",
                    "",
                ]
            )
        )
    ),
    # Read by newsletter.collect.dates itself, or handed back to feedparser at an edge.
    "dates at the edges": _rss(
        "".join(
            f"<item><title>e{n}</title><link>https://x.example/e{n}</link>"
            f"<pubDate>{when}</pubDate></item>"
            for n, when in enumerate(
                [
                    "Tue, 02 May 2023 08:00:00 +0530",
                    "sat, 6 may 2023 8:05:09 UTC",
                    "02 May 2023 23:15 PST",
                    "  Wed, 03 May 2023 01:02:03 Z  ",
                    "Tue, 02 May 2023 08:00:00 -0400 (EDT)",
                    "Tue,  02 May 2023 08:00:00 GMT",
                    "Tue, 02 May 23 08:00:00 GMT",
                    "Tue, 02 Foo 2023 08:00:00 GMT",
                    "Thu, 30 Feb 2023 08:00:00 GMT",
                    "Tue, 02 May 2023 23:59:60 GMT",
                    "Fri, 31 Dec 9999 23:59:59 -0400",
                    "Mon, 01 Jan 0001 00:00:00 +0100",
                    "2023-05-02T08:00:00.123+05:30",
                    "2023-05-02t08:00z",
                    "2023-05-02T08:00:00-00:00",
                    "2023-05-02T08:00:00",
                    "9999-12-31T23:59:59-01:00",
                    "2023-13-02",
                    "2023-05",
                ]
            )
        )
    ),
    "titles html or not": _rss(
        # Only a title feedparser calls HTML has its links made absolute.
        "<item><title>&lt;blink&gt;x&lt;/blink&gt; &lt;a href='/a'&gt;A&lt;/a&gt;</title>"
        "<link>/a</link></item>"
        "<item><title>A &amp;nbsp; &lt;A HREF='/b'&gt;B&lt;/A&gt;</title><link>/b</link></item>"
        "<item><title>&amp;bogus; &lt;a href='/c'&gt;C&lt;/a&gt;</title><link>/c</link></item>"
        "<item><title>&amp;amp; &lt;a href='/e'&gt;</title><link>/e</link></item>"
        "<item><title>https:///x.example//a</title><link>http:////x.example/d</link></item>"
    ),
    "unicode, cp1252 and mojibake": _rss(
        "<item><title>Caf\u00e9 \u2014 \u00c3\u00a9t\u00c3\u00a9 \u0080\u0093</title>"
        "<link>https://x.example/caf\u00e9</link><description>\u201cquoted\u201d</description>"
        "</item>"
    ),
    "no declaration": _rss("<item><title>x</title><link>https://x.example/x</link></item>", ""),
    "whitespace": _rss(
        "<item>\n <title>\n  Spaced   title \n</title>\n <link>\n https://x.example/s \n</link>"
        "<!-- a comment --><description>  <![CDATA[ <p>x</p> ]]>  </description></item>"
    ),
}

# Each is something feedparser handles its own way: the fast path must step aside.
SLOW = {
    "rss 0.91": FAST["missing fields"].replace(b'version="2.0"', b'version="0.91"'),
    "atom": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title></feed>',
    "malformed": b'<rss version="2.0"><channel><item><title>Broken',
    "latin-1": _rss("<item><title>x</title></item>").replace(b"utf-8", b"iso-8859-1"),
    "doctype": b'<!DOCTYPE rss SYSTEM "x.dtd">' + _rss("<item><title>x</title></item>", ""),
    "xml:base": _rss('<item xml:base="https://other.example/"><link>a</link></item>'),
    "markup in element": _rss("<item><title>a <b>b</b></title></item>"),
    "unknown element": _rss(
        "<item><title>a</title><enclosure url='x.png' type='image/png'/></item>"
    ),
    "author address": _rss("<item><title>a</title><dc:creator>a@b.org (A)</dc:creator></item>"),
    "content first": _rss(
        "<item><content:encoded>c</content:encoded><description>d</description></item>"
    ),
    "twice": _rss("<item><title>a</title><title>b</title></item>"),
}


def _feedparser_only(content: bytes, headers: dict[str, str]) -> list[RawItem]:
    original = rss.parse
    rss.parse = lambda *args: None
    try:
        return feed.parse(content, URL, headers)[0]
    finally:
        rss.parse = original


def _same(content: bytes, headers: dict[str, str]) -> list[RawItem] | None:
    fast = rss.parse(content, URL, {"content-location": URL, **headers})
    if fast is not None:
        slow = _feedparser_only(content, headers)
        assert [dataclasses.asdict(i) for i in fast] == [dataclasses.asdict(i) for i in slow]
    return fast


def test_the_demo_feed_takes_the_fast_path() -> None:
    items = _same((ROOT / "examples/site/feed.xml").read_bytes(), {})
    assert items
    assert items[0].title == "Beyond A Border Solution"


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "application/rss+xml; charset=utf-8"}, {"Content-Type": "text/xml"}],
)
def test_hostile_but_plain_rss_reads_the_same(name: str, headers: dict[str, str]) -> None:
    assert _same(FAST[name], headers) is not None


@pytest.mark.parametrize("name", SLOW)
def test_anything_unusual_is_left_to_feedparser(name: str) -> None:
    assert rss.parse(SLOW[name], URL, {}) is None


def test_a_non_xml_content_type_is_left_to_feedparser() -> None:
    assert rss.parse(FAST["no declaration"], URL, {"content-type": "text/html"}) is None
    assert (
        rss.parse(FAST["no declaration"], URL, {"content-type": "text/xml; charset=latin-1"})
        is None
    )
