"""Editing a draft (intro, posts, featured, subject, donate block) and sending test copies."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from newsletter.deliver.proof import proof_addresses
from newsletter.digest.intro import to_html
from newsletter.digest.variants import rerender
from newsletter.editors import review
from newsletter.editors.models import Editor
from newsletter.errors import CollectError, DeliveryError, DigestError, MessageError
from newsletter.models import Issue
from newsletter.pipeline import review as use_case
from newsletter.pipeline.added_story import add_story
from newsletter.web.admin import draft_form, issue_blocks_form
from newsletter.web.admin.auth import Csrf, EditorDep
from newsletter.web.admin.issues import issue_page, load_issue
from newsletter.web.admin.pages import render, sentence
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()


@router.get("/issues/{issue_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request,
    issue_id: RowId,
    editor: EditorDep,
    saved: str = "",
    added: str = "",
    already: str = "",
) -> Response:
    with runtime_of(request).sessions() as session:
        issue = load_issue(session, issue_id)
        choice = draft_form.stored(issue)
    # The notice names the story from the issue itself: a link cannot put words on this page.
    title = next((row.title for row in choice.rows if str(row.post_id) == added), None)
    note = ""
    if title is not None:
        note = f"{title} was already in this issue." if already else f"Added: {title}."
    return _form_page(request, editor, issue, choice, saved=saved == "1", added=note)


def _form_page(
    request: Request,
    editor: Editor,
    issue: Issue,
    choice: draft_form.Choice,
    *,
    saved: bool = False,
    error: draft_form.FormError | None = None,
    story_url: str = "",
    added: str = "",
) -> Response:
    """The edit form showing `choice` (as saved, or as typed beside an error)."""
    with runtime_of(request).sessions() as session:
        blocks = issue_blocks_form.shown(session, issue.id)
    return render(
        request,
        "web/admin/edit.html",
        {
            "editor": editor,
            "issue": issue,
            "choice": choice,
            "saved": saved,
            "error": error,
            "editable": review.editable(issue),
            "intro_html": to_html(choice.intro_markdown),
            "blocks": blocks,
            "story_url": story_url,
            "added": added,
        },
        400 if error is not None else 200,
    )


@router.post("/issues/{issue_id}/edit", dependencies=[Csrf])
async def save(request: Request, issue_id: RowId, editor: EditorDep) -> Response:
    """Save and re-render; an up/down button (`move`), a story's reset (`reset`), a drag
    (`reordered`) or a change to the blocks saves too and comes back to the form. An address
    in `story_url` is then read and its story added (see pipeline/added_story.py)."""
    runtime = runtime_of(request)
    form = await request.form()
    now = runtime.clock.now()
    story_url = str(form.get("story_url", ""))[:4000]
    with runtime.sessions.begin() as session:
        issue = load_issue(session, issue_id)
        try:
            choice = draft_form.read(issue, form)
            # What was approved is not what will be: the issue goes back to draft first.
            review.reopen_after_edit(issue, now)
        except draft_form.Typed as exc:
            return _form_page(request, editor, issue, exc.choice, error=exc, story_url=story_url)
        except review.ReviewError as exc:
            refused = draft_form.FormError("form", sentence(exc))
            typed = draft_form.read(issue, form)
            return _form_page(request, editor, issue, typed, error=refused, story_url=story_url)
        draft_form.write(issue, choice)
        included = sum(1 for row in choice.rows if row.included)
        issue_blocks_form.apply(session, issue, form, included)
        rerender(session, issue, runtime.settings, now, runtime.signing_key)
    if story_url.strip():
        return _add_story(request, editor, issue_id, story_url)
    if form.get("move") or form.get("reset") or form.get("reordered"):
        return RedirectResponse(f"/admin/issues/{issue_id}/edit?saved=1#stories", status_code=303)
    if issue_blocks_form.asked(form):
        return RedirectResponse(f"/admin/issues/{issue_id}/edit?saved=1#blocks", status_code=303)
    return RedirectResponse(f"/admin/issues/{issue_id}?saved=1", status_code=303)


def _add_story(request: Request, editor: Editor, issue_id: int, story_url: str) -> Response:
    """The story at the address added after the save; a refusal comes back with it as typed."""
    runtime = runtime_of(request)
    try:
        added = add_story(runtime, issue_id, story_url, editor.email)
    except (CollectError, review.ReviewError) as exc:
        with runtime.sessions() as session:
            issue = load_issue(session, issue_id)
            choice = draft_form.stored(issue)
        problem = draft_form.FormError("story_url", sentence(f"Not added: {exc}"))
        return _form_page(request, editor, issue, choice, error=problem, story_url=story_url)
    query = urlencode({"added": added.post_id, **({"already": 1} if added.already else {})})
    return RedirectResponse(f"/admin/issues/{issue_id}/edit?{query}#stories", status_code=303)


@router.post("/intro-preview", dependencies=[Csrf], response_class=HTMLResponse)
def intro_preview(intro_markdown: Annotated[str, Form()], _editor: EditorDep) -> Response:
    """The intro as the email will show it (sanitised); changes nothing."""
    return HTMLResponse(to_html(intro_markdown), headers={"Cache-Control": "no-store"})


@router.post("/issues/{issue_id}/test", dependencies=[Csrf])
def send_test(
    request: Request,
    issue_id: RowId,
    editor: EditorDep,
    addresses: Annotated[str, Form()] = "",
    variant: Annotated[str, Form()] = "",
) -> Response:
    """The same test copies as `newsletter digest test`; any editor may send them.

    A refusal (a bad address, the mail server saying no) shows the issue's page again with
    the addresses as typed and the reason beside them.
    """
    runtime = runtime_of(request)
    try:
        recipients = proof_addresses(addresses)
        use_case.send_test(runtime, issue_id, recipients, variant)
    except DigestError as exc:
        raise HTTPException(404, f"{str(exc).capitalize()}.") from None
    except MessageError as exc:
        return _test_refused(request, editor, issue_id, variant, addresses, str(exc))
    except DeliveryError as exc:
        reason = f"the test was not sent: {exc}"
        return _test_refused(request, editor, issue_id, variant, addresses, reason, 502)
    sent = ", ".join(recipients)
    return RedirectResponse(
        f"/admin/issues/{issue_id}?{urlencode({'variant': variant, 'tested': sent})}",
        status_code=303,
    )


def _test_refused(
    request: Request,
    editor: Editor,
    issue_id: int,
    variant: str,
    typed: str,
    reason: str,
    status_code: int = 400,
) -> Response:
    return issue_page(
        request,
        editor,
        issue_id,
        variant=variant,
        errors={"addresses": sentence(reason)},
        typed={"addresses": typed},
        status_code=status_code,
    )
