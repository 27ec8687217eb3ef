"""The subscriber API's tokens, for publishers: make one (shown once), see use, revoke."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsletter.editors.accounts import AccountError
from newsletter.editors.api_tokens import SCOPES, every_token, make_token, revoke
from newsletter.editors.models import Editor
from newsletter.editors.notify import local
from newsletter.web.admin.auth import Csrf, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()
log = logging.getLogger(__name__)


def _page(
    request: Request,
    publisher: Editor,
    *,
    made: str | None = None,
    error: str | None = None,
    typed: str = "",
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        rows = [
            {
                "id": token.id,
                "name": token.name,
                "scopes": token.scopes,
                "by": token.created_by,
                "made": local(token.created_at, runtime.settings),
                "used": local(token.last_used_at, runtime.settings)
                if token.last_used_at
                else "never",
                "revoked": local(token.revoked_at, runtime.settings) if token.revoked_at else None,
            }
            for token in every_token(session)
        ]
    return render(
        request,
        "web/admin/api_tokens.html",
        {
            "editor": publisher,
            "rows": rows,
            "scopes": SCOPES,
            "made": made,
            "error": error,
            "typed": typed,
            "base": runtime.settings.site.base_url,
        },
        status,
    )


@router.get("/api-tokens", response_class=HTMLResponse)
def tokens_page(request: Request, publisher: PublisherDep) -> Response:
    return _page(request, publisher)


@router.post("/api-tokens", dependencies=[Csrf])
def make(
    request: Request,
    publisher: PublisherDep,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The new token is on this answer only: never in a URL, a log or the database."""
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            token, text = make_token(
                session, name, (scopes or [])[:10], publisher.email, runtime.clock.now()
            )
            log.info("%s made API token %d (%s)", publisher.email, token.id, token.name)
    except AccountError as exc:
        return _page(request, publisher, error=str(exc), typed=name, status=400)
    answer = _page(request, publisher, made=text)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post("/api-tokens/{token_id}/revoke", dependencies=[Csrf])
def revoke_token(request: Request, token_id: RowId, publisher: PublisherDep) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        if revoke(session, token_id, publisher.email, runtime.clock.now()):
            log.info("%s revoked API token %d", publisher.email, token_id)
    return RedirectResponse("/admin/api-tokens", status_code=303)
