"""/api/v1: the subscriber API for a newsroom's CRM or donation platform, with scoped tokens."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter import __version__
from newsletter.editors.api_tokens import SCOPES, token_for
from newsletter.editors.models import ApiToken
from newsletter.pipeline.subscriber_api import Added, add_subscriber
from newsletter.web.bearer import bearer_token
from newsletter.web.ids import Before, RowId
from newsletter.web.signups import wake_sender
from newsletter.web.state import runtime_of
from subscribers import editing
from subscribers.errors import SubscribersError
from subscribers.models import Cadence, Status, Subscriber
from subscribers.search import MAX_QUERY, Filters, search
from subscribers.topics import known_topics

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX, tags=["subscribers"])
Scope = Literal["subscribers:read", "subscribers:write", "subscribers:import"]


class TopicChoice(BaseModel):
    """A topic with how often the reader hears about it; a bare slug is a weekly one."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(max_length=100)
    cadence: Cadence = Cadence.WEEKLY


# A slug (weekly, as before cadences) or {"slug": ..., "cadence": "weekly" | "daily" | "each"}.
TopicIn = Annotated[str, Field(max_length=100)] | TopicChoice


def _split(topics: list[TopicIn]) -> tuple[list[str], dict[str, str]]:
    """The slugs, and each one's cadence (weekly for a bare slug)."""
    choices = [TopicChoice(slug=t) if isinstance(t, str) else t for t in topics]
    cadences = {c.slug.strip(): c.cadence.value for c in choices if c.slug.strip()}
    return [c.slug for c in choices], cadences


class SubscriberOut(BaseModel):
    id: int
    email: str
    name: str
    status: Status
    # Topic slugs; empty: every topic.
    topics: list[str]
    # Each of `topics` by slug: how often the reader hears about it.
    cadences: dict[str, Cadence]
    signup_source: str | None
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None


class SubscriberPage(BaseModel):
    items: list[SubscriberOut]
    # Pass as `before` for the next (older) page; null on the last page.
    next_before: int | None


class NewSubscriber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    topics: list[TopicIn] = Field(default=[], max_length=100)
    # Consent already held: active at once, no confirmation email. Needs subscribers:import.
    confirmed: bool = False


class Created(BaseModel):
    # "pending": the confirmation email is queued (whether or not the address was known, as on
    # the signup form); "active": added as confirmed.
    status: Literal["pending", "active"]
    id: int | None


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    # Replaces the topics and their cadences (a bare slug: weekly); null keeps both.
    topics: list[TopicIn] | None = Field(default=None, max_length=100)


class Problem(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": why}
    for code, why in {
        400: "the request names an unknown topic or an impossible change",
        401: "no token, or not a live one",
        403: "the token lacks the scope",
        404: "no such subscriber",
        422: "a field is malformed",
    }.items()
}


def _token(request: Request) -> ApiToken:
    presented = bearer_token(request.headers.get("authorization"))
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        token = token_for(session, presented, runtime.clock.now()) if presented else None
        if token is None:
            raise HTTPException(
                401,
                "a live API token is needed: Authorization: Bearer nlk_…",
                headers={"WWW-Authenticate": "Bearer"},
            )
        session.expunge(token)
    return token


def needs(scope: Scope) -> Callable[[Request], ApiToken]:
    def allowed(request: Request) -> ApiToken:
        token = _token(request)
        if scope not in token.scopes:
            raise HTTPException(403, f"this token lacks the {scope} scope")
        return token

    return allowed


Reading = Annotated[ApiToken, Depends(needs("subscribers:read"))]
Writing = Annotated[ApiToken, Depends(needs("subscribers:write"))]


def _out(slugs: Mapping[int, str], subscriber: Subscriber) -> SubscriberOut:
    """As the API shows a subscriber; `slugs` is known_topics' by_id, read once per request."""
    return SubscriberOut(
        id=subscriber.id,
        email=subscriber.email,
        name=subscriber.name,
        status=subscriber.status,
        topics=sorted(slugs[chosen.topic_id] for chosen in subscriber.topics),
        cadences={slugs[chosen.topic_id]: chosen.cadence for chosen in subscriber.topics},
        signup_source=subscriber.signup_source,
        created_at=subscriber.created_at,
        confirmed_at=subscriber.confirmed_at,
        unsubscribed_at=subscriber.unsubscribed_at,
    )


def _by(token: ApiToken) -> str:
    """Who a change is recorded as made by (the subscriber's timeline, the signup's source)."""
    return f"API token {token.name!r}"


def _one(session: Session, subscriber_id: int) -> Subscriber:
    found = session.get(Subscriber, subscriber_id)
    if found is None:
        raise HTTPException(404, "there is no such subscriber")
    return found


@router.get("/subscribers", responses=ERRORS)
def list_subscribers(
    request: Request,
    token: Reading,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    status: Status | None = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    before: Before = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SubscriberPage:
    """Newest first, a page at a time (`before` = the last page's `next_before`)."""
    with runtime_of(request).sessions() as session:
        page = search(session, Filters(query=q, status=status, topic=topic), before, limit)
        # The page's subscribers with their topics in two queries, not two per subscriber.
        found = session.scalars(
            select(Subscriber)
            .options(selectinload(Subscriber.topics))
            .where(Subscriber.id.in_([row.id for row in page.rows]))
        )
        by_id = {person.id: person for person in found}
        people = [by_id[row.id] for row in page.rows]
        slugs = known_topics(session).by_id
        return SubscriberPage(
            items=[_out(slugs, person) for person in people], next_before=page.next_before
        )


@router.get("/subscribers/{subscriber_id}", responses=ERRORS)
def get_subscriber(request: Request, subscriber_id: RowId, token: Reading) -> SubscriberOut:
    with runtime_of(request).sessions() as session:
        return _out(known_topics(session).by_id, _one(session, subscriber_id))


@router.post("/subscribers", status_code=202, responses={**ERRORS, 201: {"model": Created}})
def create_subscriber(request: Request, new: NewSubscriber, token: Writing) -> Response:
    """Pending with a confirmation email (202), or active at once with `confirmed` (201)."""
    if new.confirmed and "subscribers:import" not in token.scopes:
        raise HTTPException(403, "adding confirmed subscribers needs the subscribers:import scope")
    topics, cadences = _split(new.topics)
    try:
        added: Added = add_subscriber(
            runtime_of(request),
            new.email,
            new.name,
            topics,
            confirmed=new.confirmed,
            by=_by(token),
            cadences=cadences,
        )
    except SubscribersError as exc:
        raise HTTPException(400, str(exc)) from None
    if not added.confirmed:
        wake_sender(request)
    body = Created(status="active" if added.confirmed else "pending", id=added.subscriber_id)
    return JSONResponse(body.model_dump(), status_code=201 if added.confirmed else 202)


@router.patch("/subscribers/{subscriber_id}", responses=ERRORS)
def change_subscriber(
    request: Request,
    subscriber_id: RowId,
    change: Change,
    token: Writing,
) -> SubscriberOut:
    """A new name and/or topics (an empty list: every topic); recorded with the token's name."""
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            subscriber = _one(session, subscriber_id)
            slugs = known_topics(session).by_id
            if change.topics is None:
                topics = [slugs[chosen.topic_id] for chosen in subscriber.topics]
                cadences = None
            else:
                topics, cadences = _split(change.topics)
            name = subscriber.name if change.name is None else change.name
            now = runtime.clock.now()
            editing.edit(
                session, subscriber, name, topics, _by(token), now, cadences, runtime.cadences
            )
            return _out(slugs, subscriber)
    except SubscribersError as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/subscribers/{subscriber_id}/unsubscribe", responses=ERRORS)
def unsubscribe_subscriber(request: Request, subscriber_id: RowId, token: Writing) -> SubscriberOut:
    """Unsubscribe (and suppress) on the reader's behalf, as when they ask the newsroom."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        subscriber = _one(session, subscriber_id)
        editing.unsubscribe(session, subscriber, _by(token), runtime.clock.now())
        return _out(known_topics(session).by_id, subscriber)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    """The API's schema: these routes only, not the site's pages or the admin."""
    schema = getattr(request.app.state, "api_schema", None)
    if schema is None:
        schema = get_openapi(
            title=f"{runtime_of(request).settings.site.name}: subscriber API",
            version=__version__,
            description="Authenticate with `Authorization: Bearer <token>`; scopes: "
            + "; ".join(f"`{name}`: {why}" for name, why in SCOPES.items()),
            routes=router.routes,
        )
        request.app.state.api_schema = schema
    return JSONResponse(schema)
