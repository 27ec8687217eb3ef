"""GET/HEAD /r/<token>: a mailed link, answered before any other layer (it is every click)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from urllib.parse import quote

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.pipeline.clicks import ClickDesk

PREFIX = "/r/"
# A 302 is not to be kept: each click is its own, and the token should not outlive the visit.
HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


@asynccontextmanager
async def click_writer(app: FastAPI) -> AsyncIterator[None]:
    """The writer thread runs while the app does; its last batch is written on the way out."""
    desk = desk_of(app)
    desk.flusher.start()
    try:
        yield
    finally:
        await run_in_threadpool(desk.flusher.stop)


# No routes of its own (the middleware answers /r/): it brings the writer's lifespan to the app.
router = APIRouter(lifespan=click_writer)


def desk_of(app: FastAPI) -> ClickDesk:
    desk: ClickDesk | None = getattr(app.state, "clicks", None)
    if desk is None:
        desk = app.state.clicks = ClickDesk(app.state.runtime)
    return desk


class Proxies:
    """Which peers are the service's own proxies (`[web] forwarded_allow_ips`), for clicks.

    A click needs its client only to tell clients apart (bursts: analytics/behaviour.py), so
    behind a proxy it takes the forwarded chain as it comes, unparsed; the peers asked about
    are few (the proxies themselves), so each is looked up once.
    """

    KEPT = 1024

    def __init__(self, allowed: str) -> None:
        items = [item.strip() for item in allowed.split(",") if item.strip()]
        self.everyone = items == ["*"]
        self.networks = [] if self.everyone else [ipaddress.ip_network(item) for item in items]
        self._known: dict[str, bool] = {}

    def trusts(self, peer: str) -> bool:
        known = self._known.get(peer)
        if known is None:
            try:
                address = ipaddress.ip_address(peer)
                known = self.everyone or any(address in network for network in self.networks)
            except ValueError:  # a Unix socket's peer, or none
                known = self.everyone
            if len(self._known) >= self.KEPT:  # without a proxy every reader is a peer
                self._known.clear()
            self._known[peer] = known
        return known


class ClickFastPath:
    """ASGI middleware: /r/ is answered here; anything else goes on to the app.

    `owner` is the FastAPI app whose desk counts the clicks: given when this wraps the app from
    outside (`newsletter serve` does, so a click skips every other layer), else the scope's.
    `proxies`: given when this sits outside the proxy-headers layer, so that a click from a
    proxy is told apart by the chain it forwards.
    """

    def __init__(
        self, app: ASGIApp, owner: FastAPI | None = None, proxies: Proxies | None = None
    ) -> None:
        self.app = app
        self.owner = owner
        self.proxies = proxies
        self._desk: ClickDesk | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        desk = self._desk
        if desk is None:
            desk = desk_of(self.owner or scope["app"])
            if self.owner is not None:  # the same app for every click: looked up once
                self._desk = desk
        method: str = scope["method"]
        if method not in ("GET", "HEAD"):
            await Response(status_code=405, headers={"Allow": "GET, HEAD"})(scope, receive, send)
            return
        location = desk.home  # a forged or altered token: the home page, never its say
        click = desk.read(path[len(PREFIX) :])
        if click is not None:
            target = desk.cached(click) or await run_in_threadpool(desk.load, click)
            # Unknown (the database cannot say right now): home, and the click still counts.
            location = target.url if target is not None else desk.home
            headers = _judged_headers(scope)
            client = scope.get("client")
            address = client[0] if client else ""
            forwarded = headers.pop("x-forwarded-for", "")
            if forwarded and self.proxies is not None and self.proxies.trusts(address):
                address = f"{address} {forwarded[:_FORWARDED_CHARS]}"
            desk.record(click, target, method, headers, address)
        await send(
            {
                "type": "http.response.start",
                "status": 302,
                "headers": [
                    (b"location", _location(location)),
                    *_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


_JUDGED = frozenset({b"user-agent", b"purpose", b"sec-purpose", b"x-forwarded-for"})
# Enough of a forwarded chain to tell its clients apart; nothing longer is kept or hashed.
_FORWARDED_CHARS = 256
_HEADERS = [
    *((name.lower().encode(), value.encode()) for name, value in HEADERS.items()),
    (b"content-length", b"0"),
]


def _judged_headers(scope: Scope) -> dict[str, str]:
    """The few request headers the machine filter reads, found in one pass over the raw list."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _JUDGED:
            found[name.decode()] = value.decode("latin-1")
    return found


@lru_cache(maxsize=4096)
def _location(url: str) -> bytes:
    """The header as Starlette's RedirectResponse writes it: unsafe characters quoted."""
    return quote(url, safe=":/%#?=@[]!$&'()*+,;").encode("latin-1")
