"""The public home page and each topic's page: its newest stories and its feeds."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from newsletter.digest.text import long_date
from newsletter.models import Topic
from newsletter.publish import text
from newsletter.publish.channels import newest_posts
from newsletter.runtime import Runtime

router = APIRouter()
STORIES = 20


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    templates: Jinja2Templates = request.app.state.templates
    with runtime.sessions() as session:
        topics = list(session.scalars(select(Topic).order_by(Topic.name)))
    response: HTMLResponse = templates.TemplateResponse(
        request, "web/home.html", {"site": runtime.settings.site, "topics": topics}
    )
    return response


@router.get("/topics/{slug}", response_class=HTMLResponse)
def topic_page(request: Request, slug: str) -> HTMLResponse:
    """The page each topic feed links home to; the full design comes with the public pages."""
    runtime: Runtime = request.app.state.runtime
    templates: Jinja2Templates = request.app.state.templates
    zone = runtime.settings.zone
    with runtime.sessions() as session:
        topic = session.scalar(select(Topic).where(Topic.slug == slug))
        if topic is None:
            raise HTTPException(404, f"There is no topic called {slug!r} on this site.")
        stories = [
            {
                # Only web addresses become links: a stored javascript: URL stays text.
                "url": post.url if post.url.startswith(("https://", "http://")) else None,
                "title": text.line(post.title) or post.url,
                "date": long_date(post.published_at, zone),
            }
            for post in newest_posts(session, STORIES, topic)
        ]
        name = text.line(topic.name)
        shown = {"slug": topic.slug, "name": name, "description": text.line(topic.description)}
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "web/topic.html",
        {"site": runtime.settings.site, "topic": shown, "feed_topic": shown, "stories": stories},
    )
    return response
