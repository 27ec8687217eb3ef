"""Conditional GETs and content coding for stored feeds: every HTTP date form, gzip variants."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from newsletter.publish import conditional
from newsletter.publish.store import Document, etag_for

MODIFIED = datetime(2026, 11, 30, 10, 52, 48, tzinfo=UTC)
BODY = b"<rss>" + b"<item>the same markup again and again</item>" * 50 + b"</rss>"

# The three forms RFC 9110 5.6.7 makes every recipient read, for MODIFIED and a second before.
FORMS = {
    "IMF-fixdate": ("Mon, 30 Nov 2026 10:52:48 GMT", "Mon, 30 Nov 2026 10:52:47 GMT"),
    "RFC 850": ("Monday, 30-Nov-26 10:52:48 GMT", "Monday, 30-Nov-26 10:52:47 GMT"),
    "asctime": ("Mon Nov 30 10:52:48 2026", "Mon Nov 30 10:52:47 2026"),
}


def _document(body: bytes = BODY) -> Document:
    return Document("/feed.xml", "application/rss+xml", body, etag_for(body), MODIFIED)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_if_modified_since_is_read_in_every_date_form(form: str) -> None:
    same, earlier = FORMS[form]
    assert conditional.parse_http_date(same) == MODIFIED
    document = _document()
    assert conditional.not_modified(document, {"if-modified-since": same})
    assert not conditional.not_modified(document, {"if-modified-since": earlier})
    status, _, body = conditional.respond("GET", {"if-modified-since": same}, document, 300)
    assert (status, body) == (304, b"")


def test_an_unreadable_date_is_ignored() -> None:
    assert conditional.parse_http_date("yesterday") is None
    assert not conditional.not_modified(_document(), {"if-modified-since": "yesterday"})


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP;q=0.5", True),
        ("x-gzip", True),
        ("br;q=1, gzip;q=0", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_gzip_is_chosen_as_accept_encoding_says(header: str | None, accepted: bool) -> None:
    assert conditional.accepts_gzip(header) is accepted


def test_the_gzip_variant_is_made_once_with_its_own_etag() -> None:
    document = _document()
    assert gzip.decompress(document.gzipped) == BODY
    assert document.gzipped == _document().gzipped  # the same bytes in every process
    assert document.gzip_etag != document.etag
    assert document.gzip_etag.startswith('"')
    assert document.gzip_etag.endswith('-gzip"')
    status, headers, body = conditional.respond("GET", {"accept-encoding": "gzip"}, document, 300)
    assert status == 200
    assert body == document.gzipped
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Length"] == str(len(document.gzipped))
    assert headers["ETag"] == document.gzip_etag
    assert headers["Vary"] == "Accept-Encoding"
    status, headers, body = conditional.respond("GET", {}, document, 300)
    assert (status, body, headers["ETag"]) == (200, BODY, document.etag)
    assert "Content-Encoding" not in headers
    assert headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_either_variants_etag_revalidates(encoding: str) -> None:
    document = _document()
    for held in (document.etag, document.gzip_etag, "W/" + document.gzip_etag):
        request = {"accept-encoding": encoding, "if-none-match": held}
        status, headers, body = conditional.respond("GET", request, document, 300)
        assert (status, body) == (304, b"")
        expected = document.gzip_etag if encoding == "gzip" else document.etag
        assert headers["ETag"] == expected
    request = {"accept-encoding": encoding, "if-none-match": '"elsewhere-gzip"'}
    assert conditional.respond("GET", request, document, 300)[0] == 200


def test_a_body_gzip_cannot_shrink_goes_out_as_it_is() -> None:
    tiny = _document(b"{}")
    assert tiny.gzipped == b""
    status, headers, body = conditional.respond("GET", {"accept-encoding": "gzip"}, tiny, 300)
    assert (status, body, headers["ETag"]) == (200, b"{}", tiny.etag)
    assert "Content-Encoding" not in headers


def test_websub_link_header_names_the_hub_and_the_feed() -> None:
    assert conditional.websub_links(None, "https://x.org/feed.xml") is None
    link = conditional.websub_links("https://hub.example.net/", "https://x.org/feed.xml")
    assert link == '<https://hub.example.net/>; rel="hub", <https://x.org/feed.xml>; rel="self"'
