"""Normalisation is pure: URLs, teasers, bylines, dates, topics and HTML, from the seed's cases."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from newsletter.collect.byline import split_byline
from newsletter.collect.item import RawItem
from newsletter.collect.normalize import (
    Context,
    canonical_url,
    content_hash,
    make_teaser,
    map_topics,
    normalise,
    parse_date,
    sanitise_html,
)
from newsletter.collect.text import html_to_text
from newsletter.errors import EntrySkipped

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
CTX = Context(
    base_url="https://demo.example.org/topics/border-enforcement.html",
    zone=NEW_YORK,
    now=NOW,
    teaser_length=300,
    default_topics=("border-enforcement",),
    known_topics=frozenset({"border-enforcement", "asylum"}),
)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://demo.example.org/2011/08/dhs-detains-unauthorized-immigrants-leave-us/"
            "?utm_source=topic-page&utm_medium=web#content",
            "https://demo.example.org/2011/08/dhs-detains-unauthorized-immigrants-leave-us/",
        ),
        ("HTTPS://Demo.Example.ORG:443/a?b=1&fbclid=x&gclid=y", "https://demo.example.org/a?b=1"),
        ("http://demo.example.org:80", "http://demo.example.org/"),
        ("http://demo.example.org:8080/x", "http://demo.example.org:8080/x"),
        ("/2011/08/post/", "https://demo.example.org/2011/08/post/"),
        ("  ../asylum.html?page=2&mc_cid=1 ", "https://demo.example.org/asylum.html?page=2"),
    ],
)
def test_canonical_url(link: str, expected: str) -> None:
    assert canonical_url(link, CTX.base_url) == expected


@pytest.mark.parametrize("link", ["mailto:editor@example.org", "javascript:alert(1)", "ftp://x/y"])
def test_non_web_links_are_refused(link: str) -> None:
    with pytest.raises(EntrySkipped, match="not an http"):
        canonical_url(link, CTX.base_url)


def test_teaser_drops_read_more_link_text() -> None:
    text = html_to_text('Text ends here. <a class="more-link" href="/x">Read More</a>')
    assert make_teaser(text, 300) == "Text ends here."


def test_teaser_drops_read_ellipsis_and_wordpress_cut_mark() -> None:
    excerpt = (
        "<p>America needs durable solutions. These concrete measures can bring orderliness to "
        "our border and modernize our overwhelmed asylum system. Read&#8230; [&hellip;]</p>\n"
    )
    assert make_teaser(html_to_text(excerpt), 300) == (
        "America needs durable solutions. These concrete measures can bring orderliness to our "
        "border and modernize our overwhelmed asylum system."
    )


def test_teaser_cut_mid_sentence_keeps_exactly_one_ellipsis() -> None:
    text = html_to_text("review 300,000 immigration&#8230; <a>Read More</a>")
    assert make_teaser(text, 300) == "review 300,000 immigration…"


def test_teaser_is_cut_at_a_word_boundary() -> None:
    text = "Anti-immigrant activists are nothing if not predictable, they scream amnesty often"
    teaser = make_teaser(text, 40)
    assert teaser == "Anti-immigrant activists are nothing if…"
    assert len(teaser) <= 41


def test_entities_are_decoded_and_whitespace_folded() -> None:
    assert html_to_text("DHS&#8217;s  \n announcement&#8212;&amp; more") == (
        "DHS’s announcement—& more"
    )


def test_byline_splits_name_and_role() -> None:
    name, role, rest = split_byline(
        "BY GREG CHEN, DIRECTOR OF ADVOCACY, AMERICAN IMMIGRATION LAWYERS ASSOCIATION For the "
        "last two years, the Department of Homeland Security (DHS) has been spinning a good yarn"
    )
    assert name == "Greg Chen"
    assert role == "Director of Advocacy, American Immigration Lawyers Association"
    assert rest.startswith("For the last two years")


def test_ordinary_capitals_are_not_a_byline() -> None:
    text = "DHS Announces Expansion of guidelines"
    assert split_byline(text) == (None, None, text)


def test_naive_date_is_read_in_the_site_zone() -> None:
    assert parse_date("2023-05-02", NEW_YORK) == datetime(2023, 5, 2, tzinfo=NEW_YORK)
    assert parse_date("May 2, 2023", NEW_YORK) == datetime(2023, 5, 2, tzinfo=NEW_YORK)
    rfc = parse_date("Tue, 02 May 2023 08:00:00 -0400", NEW_YORK)
    assert rfc is not None
    assert rfc.astimezone(UTC) == datetime(2023, 5, 2, 12, tzinfo=UTC)
    assert parse_date("someday", NEW_YORK) is None


def test_topics_are_defaults_plus_known_categories() -> None:
    assert map_topics(("border-enforcement",), ["Asylum", "Unknown Thing"], CTX.known_topics) == [
        "asylum",
        "border-enforcement",
    ]


def test_sanitise_drops_scripts_handlers_iframes_and_styles() -> None:
    dirty = (
        '<p style="color:red">Hi <script>alert(1)</script><a href="https://x.org/" '
        'onclick="steal()">the link</a><iframe src="https://evil.example"></iframe></p>'
    )
    clean = sanitise_html(dirty)
    for banned in ("script", "alert", "onclick", "iframe", "style"):
        assert banned not in clean
    assert "the link" in clean
    assert 'href="https://x.org/"' in clean


def test_normalise_dateless_entry_takes_first_seen_time() -> None:
    post = normalise(RawItem(title="A post", link="/a/", excerpt_html="<p>Words.</p>"), CTX)
    assert post.published_at == NOW
    assert not post.dated
    assert post.url == "https://demo.example.org/a/"
    assert post.topics == ("border-enforcement",)


def test_normalise_strips_xml_forbidden_characters() -> None:
    post = normalise(
        RawItem(title="Bad\x00 \x0bchars\ufffe", link="/a", excerpt_html="x\x1fy", author="A\x08B"),
        CTX,
    )
    assert post.title == "Bad chars"
    assert post.teaser == "xy"
    assert post.author_name == "AB"


def test_byline_fills_the_author_when_the_source_has_none() -> None:
    post = normalise(
        RawItem(
            title="New Report",
            link="/r/",
            excerpt_html="BY GREG CHEN, DIRECTOR OF ADVOCACY, AILA For the last two years",
        ),
        CTX,
    )
    assert (post.author_name, post.author_role) == ("Greg Chen", "Director of Advocacy, Aila")
    assert post.teaser == "For the last two years"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (RawItem(link="/a"), "no title"),
        (RawItem(title="T"), "no link"),
        (RawItem(title="T", link="/a", published="9999-12-31T00:00:00Z"), "out of range"),
    ],
)
def test_unusable_entries_are_skipped_with_a_reason(raw: RawItem, reason: str) -> None:
    with pytest.raises(EntrySkipped, match=reason):
        normalise(raw, CTX)


def test_same_words_make_the_same_hash() -> None:
    assert content_hash("DHS  Detains", "It is “tempting”") == content_hash(
        "dhs detains", "it is “tempting” "
    )
    assert content_hash("DHS Detains", "a") != content_hash("DHS Detains", "b")
