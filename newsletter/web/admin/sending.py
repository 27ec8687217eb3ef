"""Approve and Send now, each confirmed with the audience it will reach; the send's progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from newsletter.deliver.plan import delivery_counts
from newsletter.editors import review
from newsletter.editors.models import Editor
from newsletter.errors import DigestError
from newsletter.pipeline import review as use_case
from newsletter.pipeline.audience import Audience, audience
from newsletter.runtime import Runtime
from newsletter.web.admin.auth import Csrf, EditorDep, PublisherDep
from newsletter.web.admin.issues import issue_page, load_issue
from newsletter.web.admin.pages import render, sentence
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()


def _audience(runtime: Runtime, issue_id: int) -> Audience:
    try:
        return audience(runtime, issue_id)
    except DigestError:
        raise HTTPException(404, "There is no such issue.") from None


def _confirm_page(
    request: Request,
    editor: Editor,
    issue_id: int,
    action: str,
    reach: Audience,
    *,
    send_at: datetime | None = None,
    typed_send_at: str = "",
    changed_from: int | None = None,
) -> Response:
    """The second step: how many will receive it and why the others will not; one more click."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        issue = load_issue(session, issue_id)
    context: dict[str, Any] = {
        "editor": editor,
        "issue": issue,
        "action": action,
        "reach": reach,
        "send_at": send_at,
        "typed_send_at": typed_send_at,
        "changed_from": changed_from,
        "zone": runtime.settings.zone,
    }
    # 409 when the count moved under the editor: the page asks again, nothing was done.
    return render(
        request, "web/admin/confirm_send.html", context, 409 if changed_from is not None else 200
    )


def _ask(
    request: Request,
    editor: Editor,
    issue_id: int,
    action: str,
    echoed: str,
    *,
    send_at: datetime | None = None,
    typed_send_at: str = "",
) -> Response | None:
    """The confirmation page, unless `echoed` (the count the editor saw) is the count now."""
    reach = _audience(runtime_of(request), issue_id)
    echoed = echoed.strip()
    if echoed == str(reach.receive):
        return None
    return _confirm_page(
        request,
        editor,
        issue_id,
        action,
        reach,
        send_at=send_at,
        typed_send_at=typed_send_at,
        # Asked before and answered with another count: it changed in between (or was forged).
        changed_from=int(echoed) if echoed.isdigit() else None,
    )


def _decide(
    request: Request,
    editor: Editor,
    issue_id: int,
    decision: Callable[[], object],
    field: str,
    typed: str = "",
) -> Response:
    """Run one review decision; a refusal shows the issue's page with why, beside `field`."""
    try:
        decision()
    except review.ReviewError as exc:
        return _refused(request, editor, issue_id, field, sentence(exc), typed)
    except DigestError:
        raise HTTPException(404, "There is no such issue.") from None
    return RedirectResponse(f"/admin/issues/{issue_id}", status_code=303)


@router.post("/issues/{issue_id}/approve", dependencies=[Csrf])
def approve(
    request: Request,
    issue_id: RowId,
    publisher: PublisherDep,
    send_at: Annotated[str, Form()] = "",
    audience_shown: Annotated[str, Form(alias="audience")] = "",
) -> Response:
    """The same approval as `newsletter digest approve`, after the editor saw who it reaches."""
    runtime = runtime_of(request)
    try:
        when = (
            review.parse_send_time(send_at, runtime.settings.zone, runtime.clock.now())
            if send_at.strip()
            else None
        )
    except ValueError as exc:
        return _refused(request, publisher, issue_id, "send_at", sentence(exc), send_at)
    # What the approval will use when no time was given: the next `digest.send` slot.
    shown_at = when or review.next_slot(
        runtime.settings.digest.send, runtime.settings.zone, runtime.clock.now()
    )
    asked = _ask(
        request,
        publisher,
        issue_id,
        "approve",
        audience_shown,
        send_at=shown_at,
        typed_send_at=send_at,
    )
    if asked is not None:
        return asked
    who = publisher.email
    return _decide(
        request,
        publisher,
        issue_id,
        lambda: use_case.approve(runtime, issue_id, who, when),
        "send_at",
        send_at,
    )


@router.post("/issues/{issue_id}/send-now", dependencies=[Csrf])
def send_now(
    request: Request,
    issue_id: RowId,
    publisher: PublisherDep,
    audience_shown: Annotated[str, Form(alias="audience")] = "",
) -> Response:
    asked = _ask(request, publisher, issue_id, "send-now", audience_shown)
    if asked is not None:
        return asked
    runtime, who = runtime_of(request), publisher.email
    return _decide(
        request, publisher, issue_id, lambda: use_case.send_now(runtime, issue_id, who), "send_now"
    )


def _refused(
    request: Request,
    editor: Editor,
    issue_id: int,
    field: str,
    message: str,
    typed: str = "",
) -> Response:
    """The issue's page again, the error beside the field, what the editor typed kept."""
    return issue_page(
        request,
        editor,
        issue_id,
        errors={field: message},
        typed={field: typed},
        status_code=400,
    )


@router.get("/issues/{issue_id}/progress.json")
def progress(request: Request, issue_id: RowId, _editor: EditorDep) -> Response:
    """Where the send stands, for the issue page's progress bar; reads only."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        issue = load_issue(session, issue_id)
        counts = delivery_counts(session, issue_id)
    return JSONResponse(
        {
            "status": issue.status.value,
            "total": counts.total,
            "sent": counts.sent,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "retrying": counts.deferred,
            "remaining": counts.remaining,
        },
        headers={"Cache-Control": "no-store"},
    )
