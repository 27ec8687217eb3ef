"""The sending domain's screen: how mail leaves, and SPF, DKIM and DMARC as receivers see them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.deliver.domain import Verdict
from newsletter.pipeline.doctor import check_sending
from newsletter.web.admin.auth import EditorDep
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of

router = APIRouter()
# Said in words beside each check: the mark's colour is not all it says.
WORDS = {Verdict.PASS: "OK", Verdict.WARN: "Check", Verdict.FAIL: "Fix"}


@router.get("/sending-domain", response_class=HTMLResponse)
def sending_domain(request: Request, editor: EditorDep) -> Response:
    """Asked afresh on each visit (each DNS question waits at most a few seconds)."""
    findings = check_sending(runtime_of(request))
    return render(
        request,
        "web/admin/sending_domain.html",
        {"editor": editor, "findings": findings, "words": WORDS},
    )
