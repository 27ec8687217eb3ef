"""The editors' screens for subscribers: find anyone, read their story, act on their behalf."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from newsletter.editors.models import Editor
from newsletter.models import Topic
from newsletter.pipeline import reader, segments
from newsletter.web.admin.auth import Csrf, EditorDep, PublisherDep
from newsletter.web.admin.pages import render, sentence
from newsletter.web.ids import Before, RowId
from newsletter.web.signups import wake_sender
from newsletter.web.state import runtime_of
from subscribers import editing, erasure
from subscribers.cadences import split_pairs
from subscribers.csv_export import export_csv
from subscribers.errors import SubscribersError
from subscribers.models import Status, Subscriber
from subscribers.search import Filters, conditions, search, sources
from subscribers.topics import known_topics

log = logging.getLogger(__name__)
router = APIRouter()
# Filters a person types or picks: bounded, as everything a visitor sends (a 422 beyond).
Short = Annotated[str, Query(max_length=100)]
_ONE_DAY = timedelta(days=1)
REASON_MAX = 300  # characters of a suppression's reason

# What a finished action says on the page it lands on: codes only, so no URL can put words there.
DONE = {
    "edited": "Saved.",
    "unchanged": "Nothing to change.",
    "unsubscribed": "Unsubscribed; the address is suppressed.",
    "suppressed": "The address is suppressed: nothing will be mailed to it.",
    "lifted": "The suppression is lifted.",
    "resent": "A new confirmation email is queued (at most one per address per resend interval).",
    "erased": "Erased. Only a keyed hash of the address is kept, so nothing mails it again.",
}


def _day(value: str) -> datetime | None:
    """A YYYY-MM-DD field as the start of that day in UTC; blank or malformed: no filter."""
    try:
        return datetime.combine(date.fromisoformat(value.strip()), time(), UTC) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class SearchForm:
    """The search form's fields, from the query string (a dependency of both its routes)."""

    q: Annotated[str, Query(max_length=1000)] = ""
    match: Short = "contains"
    status: Short = ""
    topic: Short = ""
    source: Annotated[str, Query(max_length=500)] = ""
    since: Short = ""
    until: Short = ""
    # Clicked a story in the last N days (per-subscriber figures only): pipeline/segments.py.
    engaged: Short = ""

    def filters(self) -> Filters:
        """As filters; a value that is not one of the choices is ignored."""
        return Filters(
            query=self.q,
            match="prefix" if self.match == "prefix" else "contains",
            status=Status(self.status) if self.status in Status._value2member_map_ else None,
            topic=self.topic or None,
            source=self.source or None,
            signed_up_from=_day(self.since),
            # The "until" day is included: the filter stops at the start of the next one.
            signed_up_before=(last + _ONE_DAY) if (last := _day(self.until)) else None,
        )

    def segments(self, request: Request) -> list[ColumnElement[bool]]:
        """The conditions joined from other stages: who clicked lately, when offered."""
        runtime = runtime_of(request)
        days = int(self.engaged) if self.engaged.isdigit() and len(self.engaged) < 5 else None
        return segments.engaged(runtime.settings, runtime.clock.now(), days)

    def echoed(self) -> dict[str, str]:
        """The fields to show again in the form and carry in its links."""
        return {**asdict(self), "q": self.q[:320], "match": self.filters().match}


SearchDep = Annotated[SearchForm, Depends()]


@router.get("/subscribers/export.csv")
def export_found(request: Request, publisher: PublisherDep, form: SearchDep) -> Response:
    """Everyone the search finds (all pages) as the CLI's re-importable CSV; publishers only."""
    filters = form.filters()
    # Spooled: a big list goes to a temporary file, not into this process's memory; closed by
    # the response's generator once sent, so not in a with block here.
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", newline="")  # noqa: SIM115
    with runtime_of(request).sessions() as session:
        where = [*conditions(session, filters), *form.segments(request)]
        count = export_csv(session, spool, where=where)
    log.info("%s exported %d subscribers from the admin", publisher.email, count)
    spool.seek(0)

    def chunks() -> Iterator[str]:
        with spool:
            while piece := spool.read(1 << 16):
                yield piece

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="subscribers.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/subscribers", response_class=HTMLResponse)
def find(
    request: Request,
    editor: EditorDep,
    form: SearchDep,
    before: Before = None,
    done: Short = "",
) -> Response:
    """Search by address or name, filter, and page by id (the link to the next page keeps all)."""
    filters = form.filters()
    with runtime_of(request).sessions() as session:
        page = search(session, filters, before, also=form.segments(request))
        topics = sorted(known_topics(session).by_slug)
        known_sources = sources(session)
    echoed = form.echoed()
    return render(
        request,
        "web/admin/subscribers.html",
        {
            "editor": editor,
            "page": page,
            "form": echoed,
            "next_query": {**echoed, "before": page.next_before},
            "statuses": [s.value for s in Status],
            "topics": topics,
            "sources": known_sources,
            "engaged_choices": segments.engaged_choices(runtime_of(request).settings),
            "done": DONE.get(done, ""),
        },
    )


@router.get("/subscribers/{subscriber_id}", response_class=HTMLResponse)
def one(request: Request, subscriber_id: RowId, editor: EditorDep, done: Short = "") -> Response:
    return _page(request, editor, subscriber_id, done=DONE.get(done, ""))


def _page(
    request: Request,
    editor: Editor,
    subscriber_id: int,
    *,
    done: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    """The subscriber's page; with `errors` (form: message) the forms show what was `typed`."""
    with runtime_of(request).sessions() as session:
        story = reader.story(session, subscriber_id)
        if story is None:
            raise HTTPException(404, "There is no such subscriber.")
        names: dict[str, str] = {
            slug: name for slug, name in session.execute(select(Topic.slug, Topic.name))
        }
        topics = sorted(known_topics(session).by_slug)
        return render(
            request,
            "web/admin/subscriber.html",
            {
                "editor": editor,
                "story": story,
                "person": story.subscriber,
                "origin": reader.origin_lines(story.subscriber.signup_origin),
                "all_topics": [(slug, names.get(slug, slug)) for slug in topics],
                "done": done,
                "errors": errors or {},
                "typed": typed or {},
            },
            400 if errors else 200,
        )


def _act(
    request: Request,
    editor: Editor,
    subscriber_id: int,
    done: str,
    action: Callable[[Session, Subscriber, datetime], object],
    typed: dict[str, Any] | None = None,
) -> Response:
    """Run one editor action in a transaction and land back on the subscriber's page, saying
    `done` when the action changed something (it returns a true value) and "unchanged" else.
    A refusal shows the page again with the reason beside the form (`done` names it) and what
    was `typed` in it."""
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            subscriber = session.get(Subscriber, subscriber_id)
            if subscriber is None:
                raise HTTPException(404, "There is no such subscriber.")
            said = done if action(session, subscriber, runtime.clock.now()) else "unchanged"
    except SubscribersError as exc:
        message = sentence(exc)
        return _page(request, editor, subscriber_id, errors={done: message}, typed=typed)
    return RedirectResponse(f"/admin/subscribers/{subscriber_id}?done={said}", status_code=303)


@router.post("/subscribers/{subscriber_id}/edit", dependencies=[Csrf])
def edit(
    request: Request,
    subscriber_id: RowId,
    publisher: PublisherDep,
    # Unbounded here: check_name refuses too long a name with a sentence, not a 422 page.
    name: Annotated[str, Form()] = "",
    topics: Annotated[list[str] | None, Form()] = None,
    # One "slug:cadence" per chosen topic; a form without them (weekly alone) keeps them.
    cadences: Annotated[list[str] | None, Form()] = None,
) -> Response:
    how_often = split_pairs(cadences) if cadences is not None else None
    offer = runtime_of(request).cadences
    return _act(
        request,
        publisher,
        subscriber_id,
        "edited",
        lambda session, subscriber, now: editing.edit(
            session, subscriber, name, topics or [], publisher.email, now, how_often, offer
        ),
        {"name": name, "topics": topics or [], "cadences": how_often or {}},
    )


@router.post("/subscribers/{subscriber_id}/unsubscribe", dependencies=[Csrf])
def unsubscribe(request: Request, subscriber_id: RowId, publisher: PublisherDep) -> Response:
    who = publisher.email
    return _act(
        request,
        publisher,
        subscriber_id,
        "unsubscribed",
        lambda session, subscriber, now: editing.unsubscribe(session, subscriber, who, now),
    )


@router.post("/subscribers/{subscriber_id}/suppress", dependencies=[Csrf])
def suppress(
    request: Request,
    subscriber_id: RowId,
    publisher: PublisherDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    if len(reason) > REASON_MAX:
        refused = f"The reason holds at most {REASON_MAX} characters."
        return _page(
            request,
            publisher,
            subscriber_id,
            errors={"suppressed": refused},
            typed={"reason": reason},
        )
    return _act(
        request,
        publisher,
        subscriber_id,
        "suppressed",
        lambda session, subscriber, now: editing.suppress_address(
            session, subscriber, reason, publisher.email, now
        ),
    )


@router.post("/subscribers/{subscriber_id}/lift", dependencies=[Csrf])
def lift(request: Request, subscriber_id: RowId, publisher: PublisherDep) -> Response:
    who = publisher.email
    return _act(
        request,
        publisher,
        subscriber_id,
        "lifted",
        lambda session, subscriber, now: editing.lift(session, subscriber, who, now),
    )


@router.post("/subscribers/{subscriber_id}/resend", dependencies=[Csrf])
def resend(request: Request, subscriber_id: RowId, publisher: PublisherDep) -> Response:
    """Queued for the background sender (the signup queue), which it is woken to work on."""
    who = publisher.email
    response = _act(
        request,
        publisher,
        subscriber_id,
        "resent",
        lambda session, subscriber, now: editing.resend_confirmation(
            session, subscriber, [chosen.topic_id for chosen in subscriber.topics], who, now
        ),
    )
    wake_sender(request)
    return response


@router.post("/subscribers/{subscriber_id}/export", dependencies=[Csrf])
def export(request: Request, subscriber_id: RowId, publisher: PublisherDep) -> Response:
    """One person's data as a JSON download; the export itself is recorded on their timeline."""
    runtime = runtime_of(request)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise HTTPException(404, "There is no such subscriber.")
        editing.record_export(session, subscriber, publisher.email, now)
        session.flush()
        data = reader.export(session, subscriber_id)
    body: dict[str, Any] = {"exported_at": now.isoformat(), "subscriber": data}
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="subscriber-{subscriber_id}.json"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/subscribers/{subscriber_id}/erase", dependencies=[Csrf])
def erase(
    request: Request,
    subscriber_id: RowId,
    publisher: PublisherDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Erase only when the editor typed the address again: there is no undo."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise HTTPException(404, "There is no such subscriber.")
        typed_again = confirm.strip().lower() == subscriber.email.lower()
        if typed_again:
            erasure.erase(
                session, subscriber, runtime.signing_key, runtime.clock.now(), publisher.email
            )
    if not typed_again:
        refused = "Type the subscriber's address exactly to confirm the erasure."
        return _page(
            request,
            publisher,
            subscriber_id,
            errors={"erased": refused},
            typed={"confirm": confirm[:320]},
        )
    return RedirectResponse("/admin/subscribers?done=erased", status_code=303)
