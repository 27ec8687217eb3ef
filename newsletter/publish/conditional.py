"""HTTP caching for stored feeds: validators, 304s, Cache-Control (RFC 9110, RFC 9111)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from newsletter.publish.store import Document


def http_date(value: datetime) -> str:
    return format_datetime(value, usegmt=True)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    # If-None-Match uses the weak comparison: W/"x" matches "x".
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def not_modified(document: Document, request_headers: Mapping[str, str]) -> bool:
    """True when the client's copy is current; If-None-Match wins over If-Modified-Since."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, document.etag)
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False  # an unreadable date is ignored, as RFC 9110 says
        if since.tzinfo is None:
            return False
        return document.last_modified <= since
    return False


def headers(document: Document, max_age: int) -> dict[str, str]:
    """The headers a 200 and a 304 share."""
    return {
        "ETag": document.etag,
        "Last-Modified": http_date(document.last_modified),
        "Cache-Control": f"public, max-age={max_age}",
    }


def respond(
    method: str, request_headers: Mapping[str, str], document: Document, max_age: int
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a GET or HEAD of a stored feed."""
    shared = headers(document, max_age)
    if not_modified(document, request_headers):
        return 304, shared, b""
    shared["Content-Type"] = document.media_type
    shared["Content-Length"] = str(len(document.body))
    return 200, shared, b"" if method == "HEAD" else document.body
