"""The welcome email as a reader gets it, for editors to look at before readers do."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from newsletter.catalog import topic_names
from newsletter.web.admin.auth import EditorDep
from newsletter.web.admin.issues import VARIANT_CSP
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of
from newsletter.welcome import latest_issue

router = APIRouter()


def _sample(request: Request) -> dict[str, Any]:
    """The templates' context for a sample reader: the real latest issue, links that go nowhere."""
    runtime = runtime_of(request)
    settings = runtime.settings
    base = settings.site.base_url
    with runtime.sessions() as session:
        shown = latest_issue(session, base)
        names = list(topic_names(session).values())
    return {
        "site": settings.site,
        "organization": settings.organization,
        "name": "Preview Reader",
        "topics": names[:2],
        "how_often": "",  # the sample reader follows them weekly: "one email a week"
        "preferences_url": "#preferences-link",
        "unsubscribe_url": "#unsubscribe-link",
        "latest": shown,
    }


@router.get("/welcome", response_class=HTMLResponse)
def welcome_preview(request: Request, editor: EditorDep) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    context = _sample(request)
    return render(
        request,
        "web/admin/welcome.html",
        {
            "editor": editor,
            "enabled": runtime_of(request).settings.subscribers.welcome_email,
            "subject": templates.env.get_template("email/welcome_subject.txt").render(context),
            "text": templates.env.get_template("email/welcome.txt").render(context),
        },
    )


@router.get("/welcome.html", response_class=HTMLResponse)
def welcome_html(request: Request, _editor: EditorDep) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    html = templates.env.get_template("email/welcome.html").render(_sample(request))
    headers = {"Content-Security-Policy": VARIANT_CSP, "Cache-Control": "no-store"}
    return HTMLResponse(html, headers={**headers, "X-Content-Type-Options": "nosniff"})
