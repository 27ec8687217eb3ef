"""Click reports for editors: the sent issue's figures, and CSV per issue or per month."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from newsletter.models import Issue
from newsletter.pipeline.report_csv import reports_csv
from newsletter.pipeline.reports import month_of, parse_month, sent_issue_report, top_stories
from newsletter.runtime import Runtime
from newsletter.web.admin.auth import EditorDep
from newsletter.web.admin.pages import render
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()

FILTER_NAMES = {
    "prefetch": "prefetch or HEAD",
    "scanner": "link scanner or security gateway",
    "burst": "many links at once",
    "trap": "hidden trap link",
}


def report_context(runtime: Runtime, issue: Issue) -> dict[str, Any]:
    """What issue_report.html needs; an empty report for an issue not sent yet."""
    return {"report": sent_issue_report(runtime, issue.id), "filter_names": FILTER_NAMES}


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/issues/{issue_id}/report.csv")
def issue_csv(request: Request, issue_id: RowId, _editor: EditorDep) -> Response:
    report = sent_issue_report(runtime_of(request), issue_id)
    if report is None:
        raise HTTPException(404, "No such sent issue.")
    return _csv(reports_csv([report]), f"clicks-{report.key}.csv")


def _month(value: str) -> date:
    chosen = parse_month(value)
    if chosen is None:
        raise HTTPException(404, "A month is written YYYY-MM.")
    return chosen


@router.get("/reports")
def this_month(request: Request, _editor: EditorDep) -> Response:
    runtime = runtime_of(request)
    today = runtime.clock.now().astimezone(runtime.settings.zone)
    return RedirectResponse(f"/admin/reports/{today:%Y-%m}", status_code=303)


@router.get("/reports/{month}.csv")
def month_csv(request: Request, month: str, _editor: EditorDep) -> Response:
    chosen = _month(month)
    return _csv(reports_csv(month_of(runtime_of(request), chosen)), f"clicks-{month}.csv")


@router.get("/reports/{month}", response_class=HTMLResponse)
def month_page(request: Request, month: str, editor: EditorDep) -> Response:
    chosen = _month(month)
    reports = month_of(runtime_of(request), chosen)
    return render(
        request,
        "web/admin/month_report.html",
        {
            "editor": editor,
            "month": chosen,
            "reports": reports,
            "top": top_stories(reports),
            "filter_names": FILTER_NAMES,
        },
    )
