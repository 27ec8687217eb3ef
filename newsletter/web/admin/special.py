"""New special issue (breaking news or an appeal), and its audience, words and button edited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from newsletter.digest.special import APPEAL, BREAKING, KINDS, LABELS
from newsletter.editors.models import Editor
from newsletter.errors import DigestError, ReviewError
from newsletter.models import Issue, Topic
from newsletter.pipeline import special
from newsletter.web.admin.auth import Csrf, EditorDep
from newsletter.web.admin.issues import load_issue
from newsletter.web.admin.pages import render, sentence
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()
QUERY_LIMIT = 200


@router.get("/issues/new", response_class=HTMLResponse)
def new_form(request: Request, editor: EditorDep, kind: str = BREAKING, q: str = "") -> Response:
    """Choose breaking news (a recent post, found by its title) or an appeal; changes nothing."""
    chosen = kind if kind in KINDS else BREAKING
    return _page(request, editor, None, chosen, _typed_defaults(), q[:QUERY_LIMIT])


@router.post("/issues/new", dependencies=[Csrf])
async def create(request: Request, editor: EditorDep) -> Response:
    form = await request.form()
    kind = str(form.get("kind", ""))
    if kind not in KINDS:
        raise HTTPException(400, "Choose breaking news or an appeal.")
    try:
        made = special.create(runtime_of(request), _draft(kind, form))
    except DigestError as exc:
        return _page(
            request, editor, None, kind, _typed(form), str(form.get("q", ""))[:QUERY_LIMIT], exc
        )
    return RedirectResponse(f"/admin/issues/{made.issue_id}", status_code=303)


@router.get("/issues/{issue_id}/special", response_class=HTMLResponse)
def edit_form(request: Request, issue_id: RowId, editor: EditorDep) -> Response:
    with runtime_of(request).sessions() as session:
        issue = _special(load_issue(session, issue_id))
        typed = {
            "topics": issue.audience.split(",") if issue.audience else [],
            "subject": issue.subject,
            "intro_markdown": issue.intro_markdown,
            "body_markdown": issue.body_markdown,
            "cta_label": issue.cta_label or "",
            "cta_url": issue.cta_url or "",
            "donate": issue.donate_enabled,
            "leave_out": issue.leave_out_of_weekly,
            "post": issue.posts[0].post.title if issue.posts else "",
        }
        return _page(request, editor, issue, issue.kind, typed, "")


@router.post("/issues/{issue_id}/special", dependencies=[Csrf])
async def save(request: Request, issue_id: RowId, editor: EditorDep) -> Response:
    """Save and re-render; an approved issue returns to draft, as any edit does."""
    runtime = runtime_of(request)
    form = await request.form()
    with runtime.sessions() as session:
        issue = _special(load_issue(session, issue_id))
        kind = issue.kind
        post = issue.posts[0].post.title if issue.posts else ""
    try:
        special.update(runtime, issue_id, _draft(kind, form))
    except (DigestError, ReviewError) as exc:
        typed = {**_typed(form), "post": post}
        return _page(request, editor, issue, kind, typed, "", exc)
    return RedirectResponse(f"/admin/issues/{issue_id}?saved=1", status_code=303)


def _special(issue: Issue) -> Issue:
    if issue.kind not in KINDS:
        raise HTTPException(404, "This is not a special issue; edit it on its Edit page.")
    return issue


def _draft(kind: str, form: FormData) -> special.SpecialDraft:
    post = str(form.get("post_id", ""))
    return special.SpecialDraft(
        kind,
        topics=tuple(str(slug)[:100] for slug in form.getlist("topics")),
        subject=str(form.get("subject", "")),
        post_id=int(post) if post.isdigit() and len(post) < 10 else None,
        intro_markdown=str(form.get("intro_markdown", "")),
        body_markdown=str(form.get("body_markdown", "")),
        cta_label=str(form.get("cta_label", "")),
        cta_url=str(form.get("cta_url", "")),
        donate=form.get("donate") == "on",
        leave_out_of_weekly=form.get("leave_out") == "on",
    )


def _typed_defaults() -> dict[str, Any]:
    return {"topics": [], "donate": True, "leave_out": False}


def _typed(form: FormData) -> dict[str, Any]:
    """What the editor typed, to show again beside an error (nothing is lost)."""
    fields = ("subject", "intro_markdown", "body_markdown", "cta_label", "cta_url", "post_id")
    return {
        **{name: str(form.get(name, "")) for name in fields},
        "topics": [str(slug) for slug in form.getlist("topics")],
        "donate": form.get("donate") == "on",
        "leave_out": form.get("leave_out") == "on",
    }


def _page(
    request: Request,
    editor: Editor,
    issue: Issue | None,
    kind: str,
    typed: dict[str, Any],
    query: str,
    error: Exception | None = None,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        topics = list(session.execute(select(Topic.slug, Topic.name).order_by(Topic.name)))
    posts = special.recent_posts(runtime, query) if issue is None and kind == BREAKING else []
    context = {
        "editor": editor,
        "issue": issue,
        "kind": kind,
        "labels": LABELS,
        "breaking": BREAKING,
        "appeal": APPEAL,
        "typed": typed,
        "q": query,
        "posts": posts,
        "topics": topics,
        "error": sentence(error) if error is not None else None,
    }
    return render(request, "web/admin/special.html", context, 400 if error else 200)
