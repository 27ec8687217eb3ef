"""Importing subscribers from a CSV file in the admin, with the command line's per-row report.

Its router is included by the app with a body limit of its own ([web] max_import_bytes): a
list is larger than any form, and is still read no further than that.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from newsletter.pipeline.imports import import_from_admin
from newsletter.web.admin.auth import Csrf, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.signups import wake_sender
from newsletter.web.state import runtime_of
from subscribers.errors import ImportFileError

router = APIRouter(prefix="/admin")
SHOWN_REJECTIONS = 500  # a page, not a log: the rest are counted


@router.get("/subscribers/import", response_class=HTMLResponse)
def import_form(request: Request, publisher: PublisherDep) -> Response:
    return render(request, "web/admin/import.html", {"editor": publisher, "result": None})


@router.post("/subscribers/import", response_class=HTMLResponse, dependencies=[Csrf])
def import_file(
    request: Request,
    publisher: PublisherDep,
    file: Annotated[UploadFile, File()],
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    """Rows rejected are listed by line and reason; importing the same file again adds nothing."""
    runtime = runtime_of(request)
    name = (file.filename or "upload.csv").replace("\n", " ")[:200]
    try:
        imported = import_from_admin(
            runtime, file.file, name, confirmed=confirmed, editor=publisher.email
        )
    except ImportFileError as exc:
        said = f"{name}: {exc}; nothing was imported."
        refused = {"editor": publisher, "result": None, "error": said}
        return render(request, "web/admin/import.html", refused, 422)
    if imported.queued:
        wake_sender(request)
    report = imported.report
    context: dict[str, Any] = {
        "editor": publisher,
        "name": name,
        "result": imported,
        "rejected": report.rejected[:SHOWN_REJECTIONS],
        "more_rejected": max(0, len(report.rejected) - SHOWN_REJECTIONS),
    }
    return render(request, "web/admin/import.html", context)
