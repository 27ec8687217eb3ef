"""Where a signup came from: hostile page, referrer and utm values come out clean and bounded."""

from __future__ import annotations

import pytest

from subscribers.origin import MAX_TAG, MAX_URL, SignupOrigin


def test_a_referrers_query_is_dropped_and_the_campaign_kept() -> None:
    origin = SignupOrigin.read(
        "/subscribe",
        "https://www.google.com/search?q=my+immigration+case#top",
        {"utm_source": "facebook", "utm_campaign": "year-end", "utm_bogus": "x"},
    )
    assert origin.page == "/subscribe"
    assert origin.referrer == "https://www.google.com/search"
    assert origin.utm == {"utm_source": "facebook", "utm_campaign": "year-end"}
    assert origin.describe() == (
        "at /subscribe, from https://www.google.com/search, utm_source=facebook, "
        "utm_campaign=year-end"
    )
    assert SignupOrigin.from_json(origin.as_json()) == origin


def test_an_embedded_forms_page_gives_its_own_tags() -> None:
    origin = SignupOrigin.read(
        "https://news.example.org/2026/asylum-story/?utm_source=newsletter&utm_medium=email",
        "",
        {"utm_medium": "social"},
    )
    assert origin.page == "https://news.example.org/2026/asylum-story/"
    assert origin.source == origin.page
    # A tag the form carried wins over the same tag in the page's address.
    assert origin.utm == {"utm_source": "newsletter", "utm_medium": "social"}


@pytest.mark.parametrize(
    "hostile",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "//evil.example/protocol-relative",
        "ftp://files.example.org/x",
        "http://[::1",  # not a URL at all
        "https://host.example:99999999/",  # a port out of range
        "",
    ],
)
def test_what_is_not_a_page_is_left_out(hostile: str) -> None:
    origin = SignupOrigin.read(hostile, hostile, {})
    assert origin.referrer in ("", "https://host.example/")
    assert not origin.page.startswith(("javascript", "data", "//", "ftp"))


def test_an_ipv6_referrer_keeps_its_brackets() -> None:
    assert SignupOrigin.read("", "http://[2001:db8::1]:8080/a?b", {}).referrer == (
        "http://[2001:db8::1]:8080/a"
    )


def test_control_characters_and_lengths_are_bounded() -> None:
    origin = SignupOrigin.read(
        "/subscribe\x00\r\nSet-Cookie: x",
        "https://example.org/" + "a" * 5000,
        {"utm_source": "\u202eevil\x1b[31m" + "b" * 500},
    )
    assert "\r" not in origin.page
    assert "\x00" not in origin.page
    assert len(origin.referrer) <= MAX_URL
    assert origin.utm["utm_source"].startswith("evil[31m")
    assert len(origin.utm["utm_source"]) == MAX_TAG
