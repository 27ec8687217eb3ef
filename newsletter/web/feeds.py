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

from newsletter.metrics import FEED_ANSWERS
from newsletter.models import Topic
from newsletter.publish import conditional
from newsletter.publish.cache import FeedCache
from newsletter.publish.channels import ARCHIVE, SITE, topic_folder
from newsletter.publish.model import FILES
from newsletter.publish.rebuild import rebuild
from newsletter.publish.store import Document
from newsletter.runtime import Runtime
from newsletter.web.held import HeldAnswers

router = APIRouter()
METHODS = ["GET", "HEAD"]


class FeedFastPath:
    """ASGI middleware: a fresh cache hit is answered here; anything else goes to the routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._answers: HeldAnswers | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            application: FastAPI = scope["app"]
            document = feed_cache(application).fresh(scope["path"])
            if document is not None:
                if self._answers is None:
                    runtime: Runtime = application.state.runtime
                    self._answers = HeldAnswers(
                        lambda held: (runtime.settings.feeds.max_age, _link(runtime, held))
                    )
                status = await self._answers.send(scope, send, document)
                FEED_ANSWERS.labels(status=str(status)).inc()
                return
        await self.app(scope, receive, send)


def _link(runtime: Runtime, document: Document) -> str | None:
    hub = runtime.settings.feeds.websub_hub
    self_url = runtime.settings.site.base_url + document.path
    return conditional.websub_links(str(hub) if hub else None, self_url)


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
    FEED_ANSWERS.labels(status=str(status)).inc()
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
