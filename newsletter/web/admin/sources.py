"""The sources screens: list, add, edit, health, run now, the selector tester, keys, remove."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from newsletter import catalog_edits
from newsletter.catalog import config_of
from newsletter.catalog_edits import SELECTOR_FIELDS, CatalogError
from newsletter.collect.health import source_health
from newsletter.collect.store import topics_by_slug
from newsletter.collect.try_selectors import Trial, try_selectors
from newsletter.config import SelectorSettings
from newsletter.errors import CollectError
from newsletter.models import Source, Topic
from newsletter.pipeline.publishing import collect_and_publish
from newsletter.web.admin.auth import Csrf, EditorDep, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.ids import RowId
from newsletter.web.state import runtime_of

router = APIRouter()
KINDS = {
    "feed": "RSS or Atom feed (JSON Feed too)",
    "wordpress": "WordPress site (its REST API)",
    "html": "Web page, read with CSS selectors",
    "push": "Push: the CMS sends posts with an API key",
}
FIELDS = ("name", "kind", "url", "max_pages", *SELECTOR_FIELDS)


async def _form(request: Request) -> tuple[dict[str, str], list[str]]:
    """The source form's text fields and its chosen topics."""
    form = await request.form()
    fields = {name: value for name in FIELDS if isinstance(value := form.get(name), str)}
    topics = [value for value in form.getlist("topics") if isinstance(value, str)]
    return fields, topics[:100]


FormDep = Annotated[tuple[dict[str, str], list[str]], Depends(_form)]


def _values(source: Source) -> tuple[dict[str, str], list[str]]:
    config = config_of(source)
    fields = {
        "name": source.name,
        "kind": source.kind,
        "url": source.url or "",
        "max_pages": str(source.max_pages or ""),
    }
    if config.selectors is not None:
        fields.update(config.selectors.model_dump(exclude_none=True))
    return fields, list(config.topics)


def _form_page(
    request: Request,
    editor: Any,
    fields: dict[str, str],
    chosen: list[str],
    source_id: int | None,
    error: str | None = None,
    trial: Trial | None = None,
    status_code: int = 200,
) -> Response:
    with runtime_of(request).sessions() as session:
        topics = list(session.scalars(select(Topic).order_by(Topic.name)))
    context = {
        "editor": editor,
        "fields": fields,
        "chosen": chosen,
        "source_id": source_id,
        "kinds": KINDS,
        "selector_fields": SELECTOR_FIELDS,
        "topics": topics,
        "error": error,
        "trial": trial,
        "zone": runtime_of(request).settings.zone,
    }
    return render(request, "web/admin/source_form.html", context, status_code)


@router.get("/sources", response_class=HTMLResponse)
def sources_list(request: Request, editor: EditorDep) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        health = source_health(session)
        ids = {source.name: source.id for source in session.scalars(select(Source))}
    context = {"editor": editor, "sources": health, "ids": ids, "zone": runtime.settings.zone}
    return render(request, "web/admin/sources.html", context)


@router.get("/sources/new", response_class=HTMLResponse)
def new_source(request: Request, publisher: PublisherDep) -> Response:
    return _form_page(request, publisher, {"kind": "feed"}, [], None)


@router.post("/sources/new", dependencies=[Csrf])
def add_source(request: Request, publisher: PublisherDep, form: FormDep) -> Response:
    fields, chosen = form
    runtime = runtime_of(request)
    try:
        wanted = catalog_edits.source_settings(fields, chosen)
        with runtime.sessions.begin() as session:
            source = catalog_edits.save_source(
                session, wanted, publisher.email, runtime.clock.now()
            )
            source_id = source.id
    except CatalogError as exc:
        return _form_page(request, publisher, fields, chosen, None, str(exc), status_code=422)
    return RedirectResponse(f"/admin/sources/{source_id}", status_code=303)


@router.post("/sources/test", dependencies=[Csrf])
def test_selectors(request: Request, publisher: PublisherDep, form: FormDep) -> Response:
    """The selector tester: the form comes back as typed, with what it would extract."""
    fields, chosen = form
    runtime = runtime_of(request)
    raw_id = request.query_params.get("source", "")
    source_id = int(raw_id) if raw_id.isdigit() else None
    try:
        wanted = catalog_edits.source_settings({**fields, "kind": "html"}, chosen)
        selectors = wanted.selectors or SelectorSettings()
        if not selectors.item:
            raise CatalogError("item: the selector for one item is needed to test")
        with runtime.sessions() as session:
            topics = topics_by_slug(session)
        trial = try_selectors(
            runtime.settings, str(wanted.url), selectors, runtime.clock.now(), topics
        )
    except (CatalogError, CollectError) as exc:
        return _form_page(request, publisher, fields, chosen, source_id, str(exc))
    return _form_page(request, publisher, fields, chosen, source_id, trial=trial)


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(request: Request, source_id: RowId, editor: EditorDep) -> Response:
    return _source_page(request, source_id, editor)


def _source_page(
    request: Request, source_id: int, editor: Any, new_key: str | None = None
) -> Response:
    """Its health and skips, its settings, and what a publisher may do with it."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        source = _load(session, source_id)
        fields, chosen = _values(source)
        context = {
            "editor": editor,
            "source": source,
            "health": source_health(session, only=source_id)[0],
            "fields": fields,
            "chosen": chosen,
            "zone": runtime.settings.zone,
            "new_key": new_key,
        }
    return render(request, "web/admin/source.html", context)


@router.get("/sources/{source_id}/edit", response_class=HTMLResponse)
def edit_source(request: Request, source_id: RowId, publisher: PublisherDep) -> Response:
    with runtime_of(request).sessions() as session:
        fields, chosen = _values(_load(session, source_id))
    return _form_page(request, publisher, fields, chosen, source_id)


@router.post("/sources/{source_id}/edit", dependencies=[Csrf])
def save_source(
    request: Request, source_id: RowId, publisher: PublisherDep, form: FormDep
) -> Response:
    fields, chosen = form
    runtime = runtime_of(request)
    try:
        wanted = catalog_edits.source_settings(fields, chosen)
        with runtime.sessions.begin() as session:
            catalog_edits.save_source(
                session, wanted, publisher.email, runtime.clock.now(), source_id
            )
    except CatalogError as exc:
        return _form_page(request, publisher, fields, chosen, source_id, str(exc), status_code=422)
    return RedirectResponse(f"/admin/sources/{source_id}", status_code=303)


@router.post("/sources/{source_id}/enable", dependencies=[Csrf])
def enable(request: Request, source_id: RowId, publisher: PublisherDep) -> Response:
    return _switch(request, source_id, publisher.email, True)


@router.post("/sources/{source_id}/disable", dependencies=[Csrf])
def disable(request: Request, source_id: RowId, publisher: PublisherDep) -> Response:
    return _switch(request, source_id, publisher.email, False)


def _switch(request: Request, source_id: int, who: str, enabled: bool) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            catalog_edits.set_enabled(session, source_id, enabled, who, runtime.clock.now())
    except CatalogError:
        raise HTTPException(404, "There is no such source.") from None
    return RedirectResponse(f"/admin/sources/{source_id}", status_code=303)


@router.post("/sources/{source_id}/remove", dependencies=[Csrf])
def remove(request: Request, source_id: RowId, publisher: PublisherDep) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            catalog_edits.remove_source(session, source_id, publisher.email)
    except CatalogError as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse("/admin/sources", status_code=303)


@router.post("/sources/{source_id}/key", dependencies=[Csrf])
def make_key(request: Request, source_id: RowId, publisher: PublisherDep) -> Response:
    """A new push key, shown on this answer only: it is not stored, and not put in a URL."""
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            key = catalog_edits.new_key(session, source_id, publisher.email, runtime.clock.now())
    except CatalogError as exc:
        raise HTTPException(409, str(exc)) from None
    return _source_page(request, source_id, publisher, key)


@router.post("/sources/{source_id}/run", dependencies=[Csrf])
def run_now(request: Request, source_id: RowId, _publisher: PublisherDep) -> Response:
    """This one source through the scheduler's own join: collect, then rebuild what changed."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        name = _load(session, source_id).name
    try:
        collect_and_publish(runtime, names=[name])
    except CollectError as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(f"/admin/sources/{source_id}#health", status_code=303)


def _load(session: Any, source_id: int) -> Source:
    try:
        return catalog_edits.load_source(session, source_id)
    except CatalogError:
        raise HTTPException(404, "There is no such source.") from None
