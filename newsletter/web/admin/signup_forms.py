"""The signup forms editors paste into the newsroom's pages: one per topic, one for all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment

from newsletter.catalog import topic_names
from newsletter.config import Settings
from newsletter.web.admin.auth import EditorDep
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of
from subscribers.cadences import offered


@dataclass(frozen=True)
class Snippet:
    label: str
    html: str


router = APIRouter()


def snippets(
    settings: Settings, templates: Environment, topics: Mapping[str, str]
) -> list[Snippet]:
    """The form for all topics, then one per topic (`topics`: names by slug), as editors copy."""
    snippet = templates.get_template("web/embed_snippet.html")
    action = f"{settings.site.base_url}/subscribe/embed"
    choices: list[tuple[dict[str, str] | None, str, str]] = [(None, "All topics", "")]
    choices += [({"slug": slug, "name": name}, name, f"-{slug}") for slug, name in topics.items()]
    return [
        Snippet(
            label,
            snippet.render(
                action=action,
                topic=topic,
                suffix=suffix,
                site=settings.site,
                cadences=offered(settings.digest.cadences),
            ),
        )
        for topic, label, suffix in choices
    ]


@router.get("/signup-forms", response_class=HTMLResponse)
def signup_forms(request: Request, editor: EditorDep) -> Response:
    runtime = runtime_of(request)
    settings = runtime.settings
    templates: Jinja2Templates = request.app.state.templates
    with runtime.sessions() as session:
        topics = topic_names(session)
    context = {
        "editor": editor,
        "snippets": snippets(settings, templates.env, topics),
        "origins": settings.subscribers.embed_origins,
        "api_url": f"{settings.site.base_url}/api/subscribe",
    }
    return render(request, "web/admin/signup_forms.html", context)
