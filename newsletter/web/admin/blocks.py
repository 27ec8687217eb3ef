"""The reusable blocks screen (/admin/blocks): list, create, edit and delete; publishers only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from newsletter import blocks
from newsletter.blocks import BlockError
from newsletter.digest.intro import to_html
from newsletter.editors.models import Editor
from newsletter.models import Block
from newsletter.web.admin.auth import Csrf, EditorDep, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()
# A little over the limits, so that an over-long field gets the form's own message.
Name = Annotated[str, Form(max_length=blocks.MAX_NAME * 2)]
Body = Annotated[str, Form(max_length=blocks.MAX_BODY * 2)]


def _page(
    request: Request,
    editor: Editor,
    *,
    error: BlockError | None = None,
    typed: dict[str, str] | None = None,
    editing: int | None = None,
    status_code: int = 200,
) -> Response:
    with runtime_of(request).sessions() as session:
        rows = blocks.every(session)
        uses = blocks.uses(session)
        shown = [(row, to_html(row.body_markdown)) for row in rows]
    context = {
        "editor": editor,
        "blocks": shown,
        "uses": uses,
        "kinds": blocks.KINDS,
        "error": error,
        "typed": typed or {},
        "editing": editing,
    }
    return render(request, "web/admin/blocks.html", context, status_code)


@router.get("/blocks", response_class=HTMLResponse)
def blocks_list(request: Request, editor: EditorDep, saved: str = "") -> Response:
    return _page(request, editor)


@router.post("/blocks", dependencies=[Csrf])
def add_block(
    request: Request, publisher: PublisherDep, kind: Name = "", name: Name = "", body: Body = ""
) -> Response:
    return _save(request, publisher, {"kind": kind, "name": name, "body": body}, None)


@router.post("/blocks/{block_id}", dependencies=[Csrf])
def save_block(
    request: Request,
    block_id: RowId,
    publisher: PublisherDep,
    kind: Name = "",
    name: Name = "",
    body: Body = "",
) -> Response:
    return _save(request, publisher, {"kind": kind, "name": name, "body": body}, block_id)


def _save(
    request: Request, publisher: Editor, typed: dict[str, str], block_id: int | None
) -> Response:
    runtime = runtime_of(request)
    try:
        wanted = blocks.checked(typed["kind"], typed["name"], typed["body"])
        with runtime.sessions.begin() as session:
            if block_id is not None:
                _load(session, block_id)
            blocks.save(session, wanted, publisher.email, runtime.clock.now(), block_id)
    except BlockError as exc:
        return _page(request, publisher, error=exc, typed=typed, editing=block_id, status_code=422)
    return RedirectResponse("/admin/blocks?saved=1", status_code=303)


@router.post("/blocks/{block_id}/delete", dependencies=[Csrf])
def delete_block(request: Request, block_id: RowId, publisher: PublisherDep) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            _load(session, block_id)
            blocks.remove(session, block_id)
    except BlockError as exc:
        return _page(request, publisher, error=exc, status_code=409)
    return RedirectResponse("/admin/blocks", status_code=303)


def _load(session: Session, block_id: int) -> Block:
    try:
        return blocks.load(session, block_id)
    except BlockError:
        raise HTTPException(404, "There is no such block.") from None
