"""The editors' screens for issues: the list, the preview, and the review actions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import lxml.html
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from starlette.exceptions import HTTPException

from newsletter.deliver.message import IssueMessage, Person
from newsletter.deliver.plan import delivery_counts
from newsletter.deliver.setup import mail_setup
from newsletter.digest.deliverability import Report, client_check, spam_check
from newsletter.digest.placeholders import Template, values_for
from newsletter.digest.special import LABELS, WITHOUT
from newsletter.editors import review
from newsletter.editors.models import Editor
from newsletter.errors import DigestError
from newsletter.issue_kinds import cadence_of
from newsletter.models import Delivery, Issue, IssuePost, IssueStatus, IssueVariant, Topic
from newsletter.pipeline import review as use_case
from newsletter.pipeline.audience import audience as who_receives
from newsletter.pipeline.reports import exits
from newsletter.runtime import Runtime
from newsletter.web.admin.auth import Csrf, EditorDep, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.admin.reports import report_context
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of
from subscribers.models import Cadence

router = APIRouter()

# Variant HTML is framed by the preview page only, can run nothing, and loads nothing but images.
VARIANT_CSP = (
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; frame-ancestors 'self'; sandbox"
)
PREVIEW_VALUES = {
    "name": "Preview Reader",
    "email": "preview@example.org",
    "unsubscribe_url": "#unsubscribe-link",
    "preferences_url": "#preferences-link",
    "reader_mark": "",
}


def load_issue(session: Session, issue_id: int) -> Issue:
    issue = session.get(
        Issue,
        issue_id,
        options=[selectinload(Issue.variants), selectinload(Issue.posts)],
    )
    if issue is None:
        raise HTTPException(404, "There is no such issue.")
    return issue


def load_variant(issue: Issue, topic_key: str) -> IssueVariant:
    """The issue's rendered version for these topics (as load_issue loaded them), else a 404."""
    chosen = next((v for v in issue.variants if v.topic_key == topic_key), None)
    if chosen is None:
        raise HTTPException(404, "This issue has no rendered version for those topics.")
    return chosen


def _delivery_counts(session: Session) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {}
    rows = session.execute(
        select(Delivery.issue_id, Delivery.status, func.count()).group_by(
            Delivery.issue_id, Delivery.status
        )
    )
    for issue_id, status, count in rows:
        counts.setdefault(issue_id, Counter())[str(status)] = count
    return counts


@router.get("/", include_in_schema=False)
def admin_home(_editor: EditorDep) -> Response:
    return RedirectResponse("/admin/issues", status_code=303)


@router.get("/issues", response_class=HTMLResponse)
def issues_list(request: Request, editor: EditorDep) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        issues = list(
            session.scalars(select(Issue).order_by(Issue.period_end.desc(), Issue.id.desc()))
        )
        counts = _delivery_counts(session)
        stories = {
            issue_id: count
            for issue_id, count in session.execute(
                select(IssuePost.issue_id, func.count())
                .where(IssuePost.excluded.is_(False))
                .group_by(IssuePost.issue_id)
            )
        }
        # The issue report's own figures: its recipients who left in the first days after it.
        left = {i.id: exits(session, i.id, i.sent_at) for i in issues if i.sent_at}
    groups: dict[str, list[Issue]] = {status.value: [] for status in IssueStatus}
    for issue in issues:
        groups[issue.status.value].append(issue)
    return render(
        request,
        "web/admin/issues.html",
        {
            "editor": editor,
            "groups": groups,
            "counts": counts,
            "stories": stories,
            "left": left,
            "zone": runtime.settings.zone,
            "kinds": LABELS,
        },
    )


def _links(html: str) -> list[tuple[str, str]]:
    """Every link in the issue with its visible text, as the editor should check them."""
    document = lxml.html.fromstring(html)
    found = []
    for element in document.iter("a"):
        href = element.get("href")
        if href:
            found.append((" ".join(element.text_content().split()) or "(image)", href))
    return found


@router.get("/issues/{issue_id}", response_class=HTMLResponse)
def preview(
    request: Request,
    issue_id: RowId,
    editor: EditorDep,
    variant: str = "",
    tested: str = "",
    saved: str = "",
) -> Response:
    return issue_page(request, editor, issue_id, variant=variant, tested=tested, saved=saved == "1")


def issue_page(
    request: Request,
    editor: Editor,
    issue_id: int,
    *,
    variant: str = "",
    tested: str = "",
    saved: bool = False,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The issue's page; with `errors` (field: message) it shows them beside what was `typed`."""
    runtime = runtime_of(request)
    now = runtime.clock.now()
    with runtime.sessions() as session:
        issue = load_issue(session, issue_id)
        names = {row[0]: row[1] for row in session.execute(select(Topic.slug, Topic.name))}
        counts = delivery_counts(session, issue_id)
        left = exits(session, issue_id, issue.sent_at)
    reach = who_receives(runtime, issue_id)
    # The copies made at send time for readers who had some of its stories are not shown apart.
    shown = [v for v in issue.variants if WITHOUT not in v.topic_key]
    variants = sorted(shown, key=lambda v: (v.topic_key != "", v.topic_key))
    chosen = next(
        (v for v in variants if v.topic_key == variant), variants[0] if variants else None
    )
    context: dict[str, Any] = {
        "editor": editor,
        "issue": issue,
        "tested": tested,
        "saved": saved,
        "errors": errors or {},
        "typed": typed or {},
        "variants": variants,
        "chosen": chosen,
        # One pass over the eligible subscribers for both: the count and the variants' sizes.
        "audience": reach.topic_sets,
        "reach": reach,
        "counts": counts,
        "left": left,
        "topic_names": names,
        "zone": runtime.settings.zone,
        "kind_label": LABELS.get(issue.kind, ""),
        # Only the weekly issue has a slot; any other (breaking news, a held daily digest or
        # story email) is proposed for now.
        "default_send_at": review.next_slot(
            runtime.settings.digest.send, runtime.settings.zone, now
        )
        if cadence_of(issue.kind) == Cadence.WEEKLY
        else now,
        "links": _links(_filled(chosen.html)) if chosen is not None else [],
        "text": _filled(chosen.text, _text_values(runtime.settings.site.base_url))
        if chosen is not None
        else "",
        **report_context(runtime, issue),
    }
    return render(request, "web/admin/issue.html", context, status_code)


def _filled(part: str, values: dict[str, str] = PREVIEW_VALUES) -> str:
    return Template(part.encode()).fill(values_for(values)).decode()


def _text_values(base_url: str) -> dict[str, str]:
    """Sample values for the text part, which prints its links: the site's own, a sample token.

    The framed HTML keeps its "#" anchors, so that a click there stays on the page.
    """
    return {
        **PREVIEW_VALUES,
        "unsubscribe_url": f"{base_url}/unsubscribe?token=sample",
        "preferences_url": f"{base_url}/preferences?token=sample",
    }


@router.get("/issues/{issue_id}/variants/{variant_id}.html", response_class=HTMLResponse)
def variant_html(
    request: Request, issue_id: RowId, variant_id: RowId, _editor: EditorDep
) -> Response:
    """The stored bytes as sent, but for the placeholders, which get sample values."""
    with runtime_of(request).sessions() as session:
        variant = session.get(IssueVariant, variant_id)
    if variant is None or variant.issue_id != issue_id:
        raise HTTPException(404, "There is no such variant.")
    return HTMLResponse(
        _filled(variant.html),
        headers={
            "Content-Security-Policy": VARIANT_CSP,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def act(request: Request, issue_id: int, action: Callable[[Runtime, int], object]) -> Response:
    try:
        action(runtime_of(request), issue_id)
    except review.ReviewError as exc:
        raise HTTPException(409, str(exc)) from None
    except DigestError:
        raise HTTPException(404, "There is no such issue.") from None
    return RedirectResponse(f"/admin/issues/{issue_id}", status_code=303)


@router.post("/issues/{issue_id}/unapprove", dependencies=[Csrf])
def unapprove(request: Request, issue_id: RowId, _publisher: PublisherDep) -> Response:
    return act(request, issue_id, use_case.unapprove)


@router.post("/issues/{issue_id}/cancel", dependencies=[Csrf])
def cancel(request: Request, issue_id: RowId, _publisher: PublisherDep) -> Response:
    return act(request, issue_id, use_case.cancel)


@router.get("/issues/{issue_id}/deliverability", response_class=HTMLResponse)
def deliverability(
    request: Request, issue_id: RowId, editor: EditorDep, variant: str = ""
) -> Response:
    """Spam score and email-client warnings for one variant, as a subscriber would get it."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        issue = load_issue(session, issue_id)
    chosen = load_variant(issue, variant)
    compiled = IssueMessage(
        mail_setup(runtime.settings, runtime.signing_key),
        issue.id,
        chosen.subject,
        chosen.html,
        chosen.text,
        runtime.clock.now(),
    )
    # A sample reader with real-looking links: placeholders like "#unsubscribe" would be
    # reported as local anchors, which no subscriber's copy has.
    reader = Person(0, PREVIEW_VALUES["email"], PREVIEW_VALUES["name"])
    report = Report()
    spam_check(compiled.render(reader).data, report)
    html = Template(chosen.html.encode()).fill(values_for(compiled.fields(reader)))
    client_check(html, report)
    return render(
        request,
        "web/admin/deliverability.html",
        {"editor": editor, "issue": issue, "chosen": chosen, "report": report},
    )
