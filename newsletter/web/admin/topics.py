"""The topics screen: add, rename and describe, remove an unused one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from newsletter import catalog_edits
from newsletter.catalog_edits import CatalogError
from newsletter.models import Topic
from newsletter.web.admin.auth import Csrf, EditorDep, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()
Text = Annotated[str, Form(max_length=catalog_edits.MAX_FIELD)]


def _page(
    request: Request,
    editor: Any,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with runtime_of(request).sessions() as session:
        topics = list(session.scalars(select(Topic).order_by(Topic.name)))
    context = {"editor": editor, "topics": topics, "error": error, "typed": typed or {}}
    return render(request, "web/admin/topics.html", context, status_code)


@router.get("/topics", response_class=HTMLResponse)
def topics_list(request: Request, editor: EditorDep) -> Response:
    return _page(request, editor)


@router.post("/topics", dependencies=[Csrf])
def add_topic(
    request: Request,
    publisher: PublisherDep,
    slug: Text = "",
    name: Text = "",
    description: Text = "",
) -> Response:
    typed = {"slug": slug, "name": name, "description": description}
    return _save(request, publisher, typed, None)


@router.post("/topics/{topic_id}", dependencies=[Csrf])
def save_topic(
    request: Request,
    topic_id: RowId,
    publisher: PublisherDep,
    name: Text = "",
    description: Text = "",
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        slug = _load(session, topic_id).slug
    typed = {"slug": slug, "name": name, "description": description}
    return _save(request, publisher, typed, topic_id)


def _save(
    request: Request, publisher: Any, typed: dict[str, str], topic_id: int | None
) -> Response:
    runtime = runtime_of(request)
    try:
        wanted = catalog_edits.topic_settings(typed)
        with runtime.sessions.begin() as session:
            catalog_edits.save_topic(
                session, wanted, publisher.email, runtime.clock.now(), topic_id
            )
    except CatalogError as exc:
        shown = typed if topic_id is None else {}
        return _page(request, publisher, str(exc), shown, status_code=422)
    return RedirectResponse("/admin/topics", status_code=303)


@router.post("/topics/{topic_id}/remove", dependencies=[Csrf])
def remove_topic(request: Request, topic_id: RowId, publisher: PublisherDep) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            catalog_edits.remove_topic(session, topic_id, publisher.email)
    except CatalogError as exc:
        return _page(request, publisher, str(exc), status_code=409)
    return RedirectResponse("/admin/topics", status_code=303)


def _load(session: Any, topic_id: int) -> Topic:
    try:
        return catalog_edits.load_topic(session, topic_id)
    except CatalogError:
        raise HTTPException(404, "There is no such topic.") from None
