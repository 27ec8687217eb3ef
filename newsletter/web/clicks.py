"""GET/HEAD /r/<token>: a mailed link, answered before any other layer (it is every click)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse, Response
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


class ClickFastPath:
    """ASGI middleware: /r/ is answered here; anything else goes on to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        desk = desk_of(scope["app"])
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
            client = scope.get("client")
            address = client[0] if client else ""
            desk.record(click, target, method, Headers(scope=scope), address)
        await RedirectResponse(location, status_code=302, headers=HEADERS)(scope, receive, send)
