"""Feed routes: stored bytes served with validators, 304s and HEAD; never rebuilt per request."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from newsletter.models import Topic
from newsletter.publish import conditional
from newsletter.publish.cache import FeedCache
from newsletter.publish.channels import ARCHIVE, SITE, topic_folder
from newsletter.publish.model import FILES
from newsletter.publish.rebuild import rebuild
from newsletter.publish.store import Document
from newsletter.runtime import Runtime

router = APIRouter()
METHODS = ["GET", "HEAD"]


def feed_cache(app: FastAPI) -> FeedCache:
    """One cache per app, made on first use."""
    cache: FeedCache | None = getattr(app.state, "feed_cache", None)
    if cache is None:
        runtime: Runtime = app.state.runtime
        cache = app.state.feed_cache = FeedCache(runtime.sessions)
    return cache


def respond(
    method: str, request_headers: dict[str, str], document: Document, max_age: int
) -> Response:
    headers = conditional.headers(document, max_age)
    if conditional.not_modified(document, request_headers):
        return Response(status_code=304, headers=headers)
    headers["Content-Type"] = document.media_type
    if method == "HEAD":
        headers["Content-Length"] = str(len(document.body))
        return Response(headers=headers)
    return Response(document.body, headers=headers)


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
    return respond(request.method, dict(request.headers), document, max_age)


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
