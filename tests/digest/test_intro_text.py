"""The editor's intro in the text part: plain text, as the HTML part shows it, never Markdown."""

from __future__ import annotations

from newsletter.digest.intro_text import to_text
from tests.digest.cases import render_case


def test_the_text_part_shows_the_intro_as_text_with_links_as_text_and_url() -> None:
    text = render_case("demo").rendered.text
    assert "**" not in text
    assert "](" not in text
    assert "durable border solution could look like" in text
    # The URL as the HTML part links it (with the tracking parameters).
    assert "prosecutorial discretion\n(https://demo.example.org/topics/border-enforcement?" in text


def test_emphasis_code_and_headings_lose_their_marks() -> None:
    source = "## Heading\n\nSome *em*, __strong__ and `code`.\n\n---\n\n> quoted *text*"
    assert to_text(source) == "Heading\n\nSome em, strong and code.\n\n* * *\n\n> quoted text"


def test_links_autolinks_and_dropped_schemes() -> None:
    source = (
        "[site](https://example.org/a), <https://example.org/b>, <ana@example.org>, "
        "[bad](javascript:alert(1)) and [ftp](ftp://example.org/f)"
    )
    assert to_text(source, lambda url: url + "?t=1") == (
        "site (https://example.org/a?t=1), https://example.org/b?t=1, ana@example.org,\n"
        "[bad](javascript:alert(1)) and ftp"
    )


def test_lists_are_marked_numbered_and_wrapped_under_their_marker() -> None:
    source = (
        "- one\n- two is long enough to wrap past the narrow width we ask for here\n"
        "  - nested\n\n3. three\n4. four"
    )
    assert to_text(source, width=40) == (
        "- one\n"
        "- two is long enough to wrap past the\n"
        "  narrow width we ask for here\n"
        "  - nested\n\n"
        "3. three\n"
        "4. four"
    )


def test_a_hard_break_and_a_long_url_stay_as_written() -> None:
    url = "https://example.org/" + "x" * 100
    assert to_text(f"line one\\\nline two {url}", width=40) == f"line one\nline two\n{url}"
    # Raw HTML is text, as in the HTML part.
    assert to_text("<b>not bold</b>") == "<b>not bold</b>"
