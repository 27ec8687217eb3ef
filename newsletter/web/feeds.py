"""Feed routes: stored bytes served with validators, 304s and HEAD; never rebuilt per request.

The routes are complete on their own; `FeedFastPath` answers requests for feeds already held
fresh in memory before FastAPI's routing and dependency machinery, which costs more than the
answer itself for a feed reader's poll.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.models import Topic
from newsletter.publish import conditional
from newsletter.publish.cache import FeedCache
from newsletter.publish.channels import ARCHIVE, SITE, topic_folder
from newsletter.publish.model import FILES
from newsletter.publish.rebuild import rebuild
from newsletter.publish.store import Document
from newsletter.runtime import Runtime

router = APIRouter()
RawHeaders = list[tuple[bytes, bytes]]
METHODS = ["GET", "HEAD"]


class FeedFastPath:
    """ASGI middleware: a fresh cache hit is answered here; anything else goes to the routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Encoded headers per stored version and variant of a feed, so a poll only compares.
        self._encoded: dict[tuple[str, str, bool], tuple[RawHeaders, RawHeaders]] = {}

    def _headers(
        self, document: Document, runtime: Runtime, gzipped: bool
    ) -> tuple[RawHeaders, RawHeaders]:
        key = (document.path, document.etag, gzipped)
        encoded = self._encoded.get(key)
        if encoded is None:
            if len(self._encoded) > 1000:
                self._encoded.clear()
            max_age, link = runtime.settings.feeds.max_age, _link(runtime, document)
            full = conditional.full_headers(document, max_age, gzipped, link)
            shared = conditional.headers(document, max_age, gzipped, link)
            encoded = self._encoded[key] = (_encode(full), _encode(shared))
        return encoded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            application: FastAPI = scope["app"]
            document = feed_cache(application).fresh(scope["path"])
            if document is not None:
                request_headers = {
                    name.decode("latin-1"): value.decode("latin-1")
                    for name, value in scope["headers"]
                    if name in _NEGOTIATED
                }
                runtime: Runtime = application.state.runtime
                gzipped = conditional.gzip_chosen(document, request_headers)
                full, shared = self._headers(document, runtime, gzipped)
                if conditional.not_modified(document, request_headers):
                    status, headers, body = 304, shared, b""
                else:
                    status, headers = 200, full
                    body = b""
                    if scope["method"] == "GET":
                        body = document.gzipped if gzipped else document.body
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


_NEGOTIATED = (b"if-none-match", b"if-modified-since", b"accept-encoding")


def _link(runtime: Runtime, document: Document) -> str | None:
    hub = runtime.settings.feeds.websub_hub
    self_url = runtime.settings.site.base_url + document.path
    return conditional.websub_links(str(hub) if hub else None, self_url)


def _encode(headers: dict[str, str]) -> RawHeaders:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def feed_cache(app: FastAPI) -> FeedCache:
    """One cache per app, made on first use."""
    cache: FeedCache | None = getattr(app.state, "feed_cache", None)
    if cache is None:
        runtime: Runtime = app.state.runtime
        cache = app.state.feed_cache = FeedCache(runtime.sessions)
    return cache


def _first_build(
    runtime: Runtime, cache: FeedCache, path: str, slug: str | None
) -> Document | None:
    """A feed not built yet (a fresh install) is built once and stored, then served from there."""
    if slug is not None:
        with runtime.sessions() as session:
            if session.scalar(select(Topic.id).where(Topic.slug == slug)) is None:
                return None
    rebuild(runtime, {slug} if slug else set())
    return cache.get(path)


async def _serve(request: Request, path: str, slug: str | None = None) -> Response:
    runtime: Runtime = request.app.state.runtime
    cache = feed_cache(request.app)
    document = cache.fresh(path) or await run_in_threadpool(cache.get, path)
    if document is None:
        document = await run_in_threadpool(_first_build, runtime, cache, path, slug)
    if document is None:
        raise HTTPException(404, f"There is no topic called {slug!r} on this site.")
    max_age = runtime.settings.feeds.max_age
    link = _link(runtime, document)
    status, headers, body = conditional.respond(
        request.method, request.headers, document, max_age, link
    )
    return Response(body, status_code=status, headers=headers)


def _route(folder: str, file: str) -> None:
    async def site_feed(request: Request) -> Response:
        return await _serve(request, f"{folder}/{file}")

    router.add_api_route(
        f"{folder}/{file}", site_feed, methods=METHODS, name=f"feed:{folder}/{file}"
    )


def _topic_route(file: str) -> None:
    async def topic_feed(request: Request, slug: str) -> Response:
        return await _serve(request, f"{topic_folder(slug)}/{file}", slug)

    router.add_api_route(
        f"/topics/{{slug}}/{file}", topic_feed, methods=METHODS, name=f"feed:topic/{file}"
    )


for _file in FILES.values():
    _route(SITE, _file)
    _topic_route(_file)
_route(ARCHIVE, FILES["rss"])
