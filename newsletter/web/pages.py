"""The public pages: home, topics, a topic's page, privacy; built once per change, kept in memory.

Home and topic pages carry no token (their signup form is checked by origin, as an embedded
one is), so one copy serves every reader, with ETag, 304 and gzip, from `PageFastPath` or
the routes here when the feeds they show must be revalidated first.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter.config import Settings
from newsletter.digest.sent import latest_sent, reader_subject
from newsletter.digest.text import long_date
from newsletter.models import Post, Topic
from newsletter.publish import conditional, text
from newsletter.publish.channels import newest_posts
from newsletter.publish.store import Document, etag_for
from newsletter.runtime import Runtime
from newsletter.web.feeds import feed_cache
from newsletter.web.held import HeldAnswers
from newsletter.web.page_cache import PageCache

router = APIRouter()
HOME_STORIES = 12
TOPIC_STORIES = 20
# Readers may keep a page a minute; a new story shows after that, or at once on reload (ETag).
MAX_AGE = 60
HTML = "text/html; charset=utf-8"


def sources(path: str) -> tuple[str, ...] | None:
    """The feeds a cached page shows, by which it is known to be current; None: not cached."""
    if path == "/":
        return ("/feed.xml", "/archive/feed.xml")
    if path.startswith("/topics/") and path.count("/") == 2 and len(path) > len("/topics/"):
        return (f"{path}/feed.xml",)
    return None


def page_cache(app: FastAPI) -> PageCache:
    cache: PageCache | None = getattr(app.state, "page_cache", None)
    if cache is None:
        cache = app.state.page_cache = PageCache()
    return cache


def _link(url: str) -> str | None:
    """Only web addresses become links: a stored javascript: URL stays text."""
    return url if url.startswith(("https://", "http://")) else None


def cards(posts: list[Post], settings: Settings, shown_topic: str | None = None) -> list[Any]:
    """Teaser cards: title, date, topic, author, teaser and image, linking to the site's story."""
    zone = settings.zone
    found = []
    for post in posts:
        topics = [t for t in post.topics if t.slug != shown_topic]
        found.append(
            {
                "url": _link(post.url),
                "title": text.line(post.title) or post.url,
                "date": long_date(post.published_at, zone),
                "iso": post.published_at.isoformat(),
                "topic": text.line(topics[0].name) if topics else None,
                "author": text.line(post.author_name or ""),
                "teaser": text.summary(post.teaser or "", 320),
                "image": _link(post.image_url or ""),
                "image_alt": text.line(post.image_alt or ""),
            }
        )
    return found


def _topics(session: Session) -> list[dict[str, str]]:
    return [
        {"slug": t.slug, "name": text.line(t.name), "description": text.line(t.description)}
        for t in session.scalars(select(Topic).order_by(Topic.name))
    ]


def _home(session: Session, settings: Settings) -> dict[str, Any]:
    latest = latest_sent(session)
    issue = None
    if latest is not None:
        issue = {
            "key": latest.key,
            "subject": text.line(reader_subject(latest)) or latest.key,
            "date": long_date(latest.sent_at or latest.period_end, settings.zone),
        }
    return {
        "nav": "latest",
        "stories": cards(newest_posts(session, HOME_STORIES), settings),
        "topics": _topics(session),
        "latest_issue": issue,
    }


def _topic(session: Session, settings: Settings, slug: str) -> dict[str, Any] | None:
    topic = session.scalar(select(Topic).where(Topic.slug == slug))
    if topic is None:
        return None
    shown = {"slug": topic.slug, "name": text.line(topic.name)}
    return {
        "nav": "topics",
        "topic": {**shown, "description": text.line(topic.description)},
        "feed_topic": shown,
        "stories": cards(newest_posts(session, TOPIC_STORIES, topic), settings, topic.slug),
        "topics": _topics(session),
    }


def _build(
    request: Request, path: str, template: str, context_of: Callable[[Session], Any]
) -> Document | None:
    """The page as held: the feeds it shows revalidated, then rebuilt only if they changed."""
    runtime: Runtime = request.app.state.runtime
    feeds, pages = feed_cache(request.app), page_cache(request.app)
    shown = sources(path) or ()
    etags = tuple(getattr(feeds.get(source), "etag", None) for source in shown)
    held = pages.get(path, etags)
    if held is not None:
        return held
    with runtime.sessions() as session:
        context = context_of(session)
    if context is None:
        return None
    templates: Jinja2Templates = request.app.state.templates
    body = templates.env.get_template(template).render(context).encode()
    document = Document(path, HTML, body, etag_for(body), _now(runtime))
    pages.put(path, etags, document)
    return document


def _now(runtime: Runtime) -> datetime:
    return runtime.clock.now().replace(microsecond=0)


def _answer(request: Request, document: Document) -> Response:
    status, headers, body = conditional.respond(request.method, request.headers, document, MAX_AGE)
    return Response(body, status_code=status, headers=headers)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def home(request: Request) -> Response:
    settings = request.app.state.runtime.settings
    document = await run_in_threadpool(
        _build, request, "/", "web/home.html", lambda session: _home(session, settings)
    )
    assert document is not None
    return _answer(request, document)


@router.api_route("/topics/{slug}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def topic_page(request: Request, slug: str) -> Response:
    """A topic's newest stories, its feeds, and signup with the topic chosen."""
    settings = request.app.state.runtime.settings
    document = await run_in_threadpool(
        _build,
        request,
        f"/topics/{slug}",
        "web/topic.html",
        lambda session: _topic(session, settings, slug),
    )
    if document is None:
        raise HTTPException(404, f"There is no topic called {slug!r} on this site.")
    return _answer(request, document)


@router.get("/topics", response_class=HTMLResponse)
def topics_page(request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    templates: Jinja2Templates = request.app.state.templates
    with runtime.sessions() as session:
        context = {"nav": "topics", "topics": _topics(session)}
    response: HTMLResponse = templates.TemplateResponse(request, "web/topics.html", context)
    return response


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    analytics = request.app.state.runtime.settings.analytics
    context = {"per_subscriber": analytics.per_subscriber, "days": analytics.retention_days}
    response: HTMLResponse = templates.TemplateResponse(request, "web/privacy.html", context)
    return response


@router.get("/favicon.svg")
def favicon(request: Request) -> Response:
    """The site's initial on its accent colour: every page names it, no file to ship."""
    site = request.app.state.runtime.settings.site
    initial = (site.name.strip()[:1] or "N").upper()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{site.accent_color}"/>'
        '<text x="32" y="44" font-family="Arial, sans-serif" font-size="36" font-weight="bold"'
        f' text-anchor="middle" fill="#fff">{html.escape(initial)}</text></svg>'
    )
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


class PageFastPath:
    """ASGI middleware: a page held and current is answered here, before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._answers = HeldAnswers(lambda _page: (MAX_AGE, None))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            shown = sources(scope["path"])
            if shown is not None:
                application: FastAPI = scope["app"]
                document = page_cache(application).fresh(
                    scope["path"], feed_cache(application), shown
                )
                if document is not None:
                    await self._answers.send(scope, send, document)
                    return
        await self.app(scope, receive, send)
