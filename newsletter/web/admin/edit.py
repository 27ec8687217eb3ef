"""Editing a draft (intro, posts, featured, subject, donate block) and sending test copies."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from newsletter.deliver.proof import proof_addresses
from newsletter.digest.intro import to_html
from newsletter.digest.variants import audience_keys, render_variants
from newsletter.editors import review
from newsletter.editors.models import Editor
from newsletter.errors import DeliveryError, DigestError, MessageError
from newsletter.models import Issue, IssuePost
from newsletter.pipeline import review as use_case
from newsletter.web.admin.auth import Csrf, EditorDep
from newsletter.web.admin.issues import issue_page, load_issue
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of

router = APIRouter()
LIMIT = 500  # characters of subject and preheader, as the columns hold


@router.get("/issues/{issue_id}/edit", response_class=HTMLResponse)
def edit_form(request: Request, issue_id: int, editor: EditorDep) -> Response:
    with runtime_of(request).sessions() as session:
        issue = load_issue(session, issue_id)
        entries = [(entry, entry.post) for entry in issue.posts]
    return render(
        request,
        "web/admin/edit.html",
        {
            "editor": editor,
            "issue": issue,
            "entries": entries,
            "editable": review.editable(issue),
            "intro_html": to_html(issue.intro_markdown),
        },
    )


def _ints(form: FormData, name: str) -> set[int]:
    return {
        int(value) for value in form.getlist(name) if isinstance(value, str) and value.isdigit()
    }


def _apply(issue: Issue, form: FormData) -> None:
    """Write the form into the issue: fields, which posts, their order, the featured one."""
    subject = str(form.get("subject", "")).strip()
    preheader = str(form.get("preheader", "")).strip()
    if len(subject) > LIMIT or len(preheader) > LIMIT:
        raise HTTPException(400, f"The subject and preheader hold at most {LIMIT} characters.")
    issue.subject = subject
    issue.preheader = preheader
    issue.intro_markdown = str(form.get("intro_markdown", ""))
    issue.donate_enabled = form.get("donate_enabled") == "on"

    included = _ints(form, "include")
    featured_value = str(form.get("featured", ""))
    featured = int(featured_value) if featured_value.isdigit() else None
    if featured is not None and featured not in included:
        raise HTTPException(400, "The featured story must be one of the included stories.")

    def wanted(entry: IssuePost) -> tuple[int, int]:
        raw = str(form.get(f"position_{entry.post_id}", ""))
        return (int(raw) if raw.lstrip("-").isdigit() else entry.position, entry.position)

    for position, entry in enumerate(sorted(issue.posts, key=wanted)):
        entry.position = position
        entry.excluded = entry.post_id not in included
        entry.featured = entry.post_id == featured
    issue.featured_post_id = featured


@router.post("/issues/{issue_id}/edit", dependencies=[Csrf])
async def save(request: Request, issue_id: int, _editor: EditorDep) -> Response:
    runtime = runtime_of(request)
    form = await request.form()
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        issue = load_issue(session, issue_id)
        try:
            # What was approved is not what will be: the issue goes back to draft first.
            review.reopen_after_edit(issue, now)
        except review.ReviewError as exc:
            raise HTTPException(409, str(exc)) from None
        _apply(issue, form)
        session.flush()
        session.expire(issue, ["posts"])
        render_variants(session, issue, runtime.settings, now, audience_keys(session, now))
    return RedirectResponse(f"/admin/issues/{issue_id}", status_code=303)


@router.post("/intro-preview", dependencies=[Csrf], response_class=HTMLResponse)
def intro_preview(intro_markdown: Annotated[str, Form()], _editor: EditorDep) -> Response:
    """The intro as the email will show it (sanitised); changes nothing."""
    return HTMLResponse(to_html(intro_markdown), headers={"Cache-Control": "no-store"})


@router.post("/issues/{issue_id}/test", dependencies=[Csrf])
def send_test(
    request: Request,
    issue_id: int,
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
        errors={"addresses": f"{reason[:1].upper()}{reason[1:]}."},
        typed={"addresses": typed},
        status_code=status_code,
    )
