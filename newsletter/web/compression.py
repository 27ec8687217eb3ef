"""gzip for the public pages that carry no secret; feeds and cached pages bring their own.

Pages with a CSRF field or a subscriber's link stay uncompressed: compressing a secret beside
text an attacker chooses leaks the secret through the response's size (BREACH).
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.publish.model import FILES

FEED_FILES = frozenset(FILES.values())


def compressible(path: str) -> bool:
    """The archive and the topics index; not the feeds, home or topic pages (held gzipped)."""
    if path.rsplit("/", 1)[-1] in FEED_FILES:
        return False
    return path in ("/archive", "/topics", "/privacy") or path.startswith("/archive/")


class PublicPageCompression:
    """Starlette's GZipMiddleware, for the pages `compressible` names only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=500, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and compressible(scope["path"]):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
