"""Hostile titles, teasers and intros render escaped and intact; only our markers are personal."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from newsletter.digest.placeholders import Template
from newsletter.digest.words import BREAK
from tests.digest.cases import render_case

FOOTER_HTML = ["email.html", "unsubscribe_url.html", "preferences_url.html"]
FOOTER_TEXT = ["email", "unsubscribe_url", "preferences_url"]


def test_only_the_footer_markers_survive_in_every_part() -> None:
    rendered = render_case("hostile").rendered
    assert Template(rendered.html.encode()).names == FOOTER_HTML
    assert Template(rendered.text.encode()).names == FOOTER_TEXT
    assert Template(rendered.subject.encode()).names == []


def test_nothing_executes_in_the_html() -> None:
    document = lxml_html.fromstring(render_case("hostile").rendered.html)
    assert document.xpath("//script") == []
    assert document.xpath("//img[@onerror] | //*[@onclick]") == []
    hrefs = document.xpath("//a/@href")
    assert not [href for href in hrefs if href.lower().startswith("javascript:")]
    assert document.xpath("//img/@alt") == ['"><script>alert(1)</script>']


def test_hostile_text_is_shown_literally_and_whole() -> None:
    rendered = render_case("hostile").rendered
    # The HTML's break opportunities in overlong words are invisible, and cut nothing.
    visible = lxml_html.fromstring(rendered.html).text_content().replace(BREAK, "")
    for part in (" ".join(rendered.text.split()), " ".join(visible.split())):
        assert '<script>alert("t")</script> {{ 7*7 }} {% raw %}' in part
        assert "{{ unsubscribe_url }} and *|UNSUB|* and %recipient.name%" in part
        assert "A" * 5000 in part  # the long word is never cut
        assert "Emoji 🎉👩🏽‍⚖️ and flags 🇺🇸" in part
        assert "مرحبا بالعالم — اللجوء" in part
        assert "<script>alert('intro')</script> Hello {{ name }}" in part


def test_text_part_is_wrapped_at_78_columns_except_unbreakable_words_and_links() -> None:
    text = render_case("demo").rendered.text
    long_lines = [line for line in text.splitlines() if len(line) > 78]
    assert long_lines
    for line in long_lines:
        assert " " not in line.strip() or re.match(r"^[\w ]+: https?://\S+$", line), line


def test_every_site_and_donate_link_names_the_issue() -> None:
    case = render_case("demo")
    document = lxml_html.fromstring(case.rendered.html)
    hrefs = [href for href in document.xpath("//a/@href") if "\ue000" not in href]
    assert hrefs
    for href in hrefs:
        assert "utm_campaign=digest-2023-W18" in href, href
    untracked = render_case("demo", digest={"utm": False}).rendered.html
    assert "utm_" not in untracked
