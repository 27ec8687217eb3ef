"""The signup forms editors paste into the newsroom's pages: one per topic, one for all."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment

from newsletter.config import Settings
from newsletter.web.admin.auth import EditorDep
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of


@dataclass(frozen=True)
class Snippet:
    label: str
    html: str


router = APIRouter()


def snippets(settings: Settings, templates: Environment) -> list[Snippet]:
    """The form for all topics, then one per topic, as editors copy them."""
    snippet = templates.get_template("web/embed_snippet.html")
    action = f"{settings.site.base_url}/subscribe/embed"
    choices = [(None, "All topics", "")] + [
        (topic, topic.name, f"-{topic.slug}") for topic in settings.topics
    ]
    return [
        Snippet(
            label, snippet.render(action=action, topic=topic, suffix=suffix, site=settings.site)
        )
        for topic, label, suffix in choices
    ]


@router.get("/signup-forms", response_class=HTMLResponse)
def signup_forms(request: Request, editor: EditorDep) -> Response:
    settings = runtime_of(request).settings
    templates: Jinja2Templates = request.app.state.templates
    context = {
        "editor": editor,
        "snippets": snippets(settings, templates.env),
        "origins": settings.subscribers.embed_origins,
        "api_url": f"{settings.site.base_url}/api/subscribe",
    }
    return render(request, "web/admin/signup_forms.html", context)
