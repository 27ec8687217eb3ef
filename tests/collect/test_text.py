"""Plain text from HTML: entities decoded exactly once, tags out, control characters out."""

from __future__ import annotations

import pytest

from newsletter.collect.text import as_html, clean_text, html_to_text


@pytest.mark.parametrize(
    ("fragment", "shown"),
    [
        ("caf&eacute; &lt;b&gt;not bold&lt;/b&gt;", "café <b>not bold</b>"),
        ("applicants &lt;under 18&gt;? &hellip; &amp;amp;", "applicants <under 18>? … &amp;"),
        ("<p>AT&amp;T</p><p>next</p>", "AT&T next"),
        ("a&#11;b<br>c\x0bd &#x85;e &#x9d;f\x00g", "a b c d …e fg"),
        ("<script>alert(1)</script>kept", "kept"),
    ],
)
def test_html_to_text_is_what_a_browser_shows(fragment: str, shown: str) -> None:
    assert html_to_text(fragment) == shown


def test_plain_text_survives_a_round_trip_through_as_html() -> None:
    text = "x < y & <b>z</b> &amp; done"
    assert html_to_text(as_html(text) or "") == text


def test_clean_text_drops_c0_and_c1_controls() -> None:
    text = "".join(chr(code) for code in [*range(32), *range(0x7F, 0xA0)])
    assert clean_text(f"a{text}b") == "a b"
