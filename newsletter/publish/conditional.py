"""HTTP caching for stored feeds: validators, 304s, gzip, Cache-Control (RFC 9110, RFC 9111)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from newsletter.publish.store import Document


def http_date(value: datetime) -> str:
    return format_datetime(value, usegmt=True)


def parse_http_date(value: str) -> datetime | None:
    """An HTTP date in any of its three forms (RFC 9110 5.6.7), or None when unreadable.

    IMF-fixdate and RFC 850 dates name GMT; asctime dates name no zone, and are GMT too.
    """
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (RFC 9110 12.5.3): by name or by `*`, with q > 0."""
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for item in accept_encoding.split(",")[:50]:
        coding, _, params = item.partition(";")
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[coding.strip().lower()] = weight
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def _etag_matches(header: str, etags: tuple[str, ...]) -> bool:
    if header.strip() == "*":
        return True
    # If-None-Match uses the weak comparison: W/"x" matches "x".
    wanted = {etag.removeprefix("W/") for etag in etags}
    return any(tag.strip().removeprefix("W/") in wanted for tag in header.split(",")[:50])


def not_modified(document: Document, request_headers: Mapping[str, str]) -> bool:
    """True when the client's copy is current; If-None-Match wins over If-Modified-Since.

    A client holding either variant (identity or gzip) holds the current version.
    """
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, (document.etag, document.gzip_etag))
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since:
        since = parse_http_date(if_modified_since)
        # An unreadable date is ignored, as RFC 9110 says.
        return since is not None and document.last_modified <= since
    return False


def gzip_chosen(document: Document, request_headers: Mapping[str, str]) -> bool:
    return bool(document.gzipped) and accepts_gzip(request_headers.get("accept-encoding"))


def headers(
    document: Document, max_age: int, gzipped: bool = False, link: str | None = None
) -> dict[str, str]:
    """The headers a 200 and a 304 share; `link` is a Link header's value (WebSub's hub, self)."""
    shared = {
        "ETag": document.gzip_etag if gzipped else document.etag,
        "Last-Modified": http_date(document.last_modified),
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
    }
    if link:
        shared["Link"] = link
    return shared


def full_headers(
    document: Document, max_age: int, gzipped: bool = False, link: str | None = None
) -> dict[str, str]:
    """The headers of a 200 (or of a HEAD's answer)."""
    full = headers(document, max_age, gzipped, link)
    full["Content-Type"] = document.media_type
    if gzipped:
        full["Content-Encoding"] = "gzip"
    full["Content-Length"] = str(len(document.gzipped if gzipped else document.body))
    return full


def respond(
    method: str,
    request_headers: Mapping[str, str],
    document: Document,
    max_age: int,
    link: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a GET or HEAD of a stored feed."""
    gzipped = gzip_chosen(document, request_headers)
    if not_modified(document, request_headers):
        return 304, headers(document, max_age, gzipped, link), b""
    body = document.gzipped if gzipped else document.body
    return 200, full_headers(document, max_age, gzipped, link), b"" if method == "HEAD" else body


def websub_links(hub: str | None, self_url: str) -> str | None:
    """The Link header WebSub subscribers discover the hub and topic URL by (WebSub 4)."""
    if not hub:
        return None
    return f'<{hub}>; rel="hub", <{self_url}>; rel="self"'
