"""Answering from memory before routing: a held document's 200, 304 or HEAD, headers encoded once.

The feeds' and the cached pages' fast paths share this; only how they find the document and
which headers it carries (the feeds' WebSub Link, their max-age) differ.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope, Send

from newsletter.publish import conditional
from newsletter.publish.store import Document

RawHeaders = list[tuple[bytes, bytes]]
NEGOTIATED = (b"if-none-match", b"if-modified-since", b"accept-encoding")


def encode(headers: dict[str, str]) -> RawHeaders:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class HeldAnswers:
    """Sends held documents; `policy` gives a document's max-age and Link header."""

    def __init__(self, policy: Callable[[Document], tuple[int, str | None]]) -> None:
        self.policy = policy
        # Encoded headers per stored version and variant, so a hit only compares and sends.
        self._encoded: dict[tuple[str, str, bool], tuple[RawHeaders, RawHeaders]] = {}

    def _headers(self, document: Document, gzipped: bool) -> tuple[RawHeaders, RawHeaders]:
        key = (document.path, document.etag, gzipped)
        encoded = self._encoded.get(key)
        if encoded is None:
            if len(self._encoded) > 1000:
                self._encoded.clear()
            max_age, link = self.policy(document)
            full = conditional.full_headers(document, max_age, gzipped, link)
            shared = conditional.headers(document, max_age, gzipped, link)
            encoded = self._encoded[key] = (encode(full), encode(shared))
        return encoded

    async def send(self, scope: Scope, send: Send, document: Document) -> int:
        """Answer with the document (200), or 304 when the client has it; the status sent."""
        asked = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in NEGOTIATED
        }
        gzipped = conditional.gzip_chosen(document, asked)
        full, shared = self._headers(document, gzipped)
        if conditional.not_modified(document, asked):
            status, headers, body = 304, shared, b""
        else:
            status, headers = 200, full
            body = b""
            if scope["method"] == "GET":
                body = document.gzipped if gzipped else document.body
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return status
