"""Public subscription pages: signup, confirmation, one-click unsubscribe, preferences."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from newsletter.confirmations import ConfirmationSender
from newsletter.metrics import CONFIRMATIONS
from newsletter.models import Topic
from newsletter.pipeline.signup import SignupForm, TooManySignups, take_link_request
from newsletter.runtime import Runtime
from newsletter.web.public import (
    Csrf,
    Link,
    PublicRoute,
    bad_link,
    client_of,
    error,
    page,
    subscriber_for,
)
from newsletter.web.signups import (
    FIELD_OF,
    FieldError,
    FormStr,
    SignupFieldsDep,
    queue_signup,
    wake_sender,
)
from newsletter.web.state import runtime_of
from newsletter.welcome import chosen_topics
from subscribers.cadence_sentence import what_they_get
from subscribers.cadences import pairs
from subscribers.errors import (
    InvalidAddress,
    InvalidName,
    InvalidPause,
    InvalidToken,
    QueueFull,
    UnknownCadence,
    UnknownTopic,
)
from subscribers.links import link
from subscribers.manage import (
    Confirmed,
    Preferences,
    confirm,
    undo_unsubscribe,
    unsubscribe,
    update_preferences,
)
from subscribers.models import Subscriber
from subscribers.origin import UTM_KEYS, SignupOrigin
from subscribers.tokens import Purpose
from subscribers.topics import known_topics


@asynccontextmanager
async def _confirmation_sender(app: FastAPI) -> AsyncIterator[None]:
    """Confirmation emails go out from a thread of their own, never from a signup request."""
    runtime: Runtime = app.state.runtime
    templates: Jinja2Templates = app.state.templates
    sender = ConfirmationSender(runtime, templates.env, runtime.transport)
    sender.start()
    app.state.confirmation_sender = sender
    try:
        yield
    finally:
        await run_in_threadpool(sender.stop)


# The router's lifespan is merged into the app's: every app that serves /subscribe sends.
router = APIRouter(lifespan=_confirmation_sender, route_class=PublicRoute)

PAUSE_CHOICES = (1, 2, 4, 8, 12)
ConfirmLink = Annotated[Link, subscriber_for(Purpose.CONFIRM)]
UnsubscribeLink = Annotated[Link, subscriber_for(Purpose.UNSUBSCRIBE)]
PreferencesLink = Annotated[Link, subscriber_for(Purpose.PREFERENCES)]


def _topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.name)))


def _link(runtime: Runtime, purpose: Purpose, subscriber: Subscriber, now: datetime) -> str:
    """A fresh signed link of the subscriber's own, to show on the page they are on."""
    key = runtime.signing_key
    base = runtime.settings.site.base_url
    return link(base, key, purpose, subscriber.id, subscriber.email, now)


def _button_page(request: Request, opened: Link, template: str) -> HTMLResponse:
    """What a mailed link opens: a page with a button. Reading it never changes anything."""
    subscriber = opened.subscriber
    context = {"token": opened.token, "email": subscriber.email, "status": subscriber.status.value}
    return page(request, template, context)


# --- signup ----------------------------------------------------------------------------------


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> HTMLResponse:
    with runtime_of(request).sessions() as session:
        topics = _topics(session)
    # Where the reader came from is known now, on the way in; the form carries it to the POST.
    query = request.query_params
    origin = SignupOrigin.read(
        request.url.path,
        request.headers.get("referer", ""),
        {k: query.get(k, "") for k in UTM_KEYS},
    )
    context: dict[str, Any] = {
        "topics": topics,
        "form": {},
        "origin": origin.as_json(),
        "error": None,
        "error_field": None,
    }
    return page(request, "web/subscribe.html", context)


@router.post("/subscribe", response_class=HTMLResponse, dependencies=[Csrf])
def subscribe(
    request: Request,
    fields: SignupFieldsDep,
    origin_referrer: FormStr = "",
    utm_source: FormStr = "",
    utm_medium: FormStr = "",
    utm_campaign: FormStr = "",
    utm_term: FormStr = "",
    utm_content: FormStr = "",
) -> HTMLResponse:
    runtime = runtime_of(request)
    tags = {
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "utm_term": utm_term,
        "utm_content": utm_content,
    }
    # A form pasted into another page posts without our fields: its page is the Referer.
    page_url = fields.origin_page or request.headers.get("referer", "")
    origin = SignupOrigin.read(page_url, origin_referrer, tags)
    form = SignupForm(
        fields.email,
        fields.name,
        fields.topics,
        fields.website,
        client_of(request),
        origin,
        fields.cadence,
    )
    try:
        queue_signup(request, form)
    except FieldError as exc:
        with runtime.sessions() as session:
            shown = {
                "email": fields.email,
                "name": fields.name,
                "topics": fields.topics,
                # An unknown value is shown as weekly again, the error naming it.
                "cadence": fields.cadence,
            }
            context = {
                "topics": _topics(session),
                "form": shown,
                "origin": origin.as_json(),
                "error": str(exc),
                "error_field": FIELD_OF[type(exc)],  # tied to its field: aria-describedby
            }
        return page(request, "web/subscribe.html", context, 422)
    return page(request, "web/subscribe_done.html", {"back_url": ""})


@router.post("/links/new", response_class=HTMLResponse, dependencies=[Csrf])
def new_link(request: Request, email: FormStr = "") -> HTMLResponse:
    """Fresh links for an expired or used one: the same answer whether the address is known."""
    runtime = runtime_of(request)
    try:
        if take_link_request(runtime, email, client_of(request)):
            wake_sender(request)
    except TooManySignups:
        raise error(429, "Too many requests from your network. Please try again later.") from None
    except InvalidAddress as exc:
        raise error(422, f"{str(exc).capitalize()} Please go back and check it.") from None
    except QueueFull:
        raise error(
            503, "We are receiving too many requests. Please try again in an hour."
        ) from None
    return page(request, "web/new_link_sent.html", {})


# --- confirmation ----------------------------------------------------------------------------


@router.get("/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, opened: ConfirmLink) -> HTMLResponse:
    return _button_page(request, opened, "web/confirm.html")


@router.post("/confirm", response_class=HTMLResponse, dependencies=[Csrf])
def confirm_submit(request: Request, opened: ConfirmLink) -> HTMLResponse:
    runtime = runtime_of(request)
    now = runtime.clock.now()
    subscriber = opened.subscriber
    try:
        confirmed = confirm(opened.session, subscriber, now, client_of(request))
    except InvalidToken as exc:
        raise bad_link(runtime, Purpose.CONFIRM, exc) from None
    if confirmed is Confirmed.NOW:
        CONFIRMATIONS.inc()
    answer = _confirmed(request, opened, now, undone=False)
    # The welcome email goes out now, not at the next poll: woken once the confirmation has
    # committed (the link's transaction ends before the response is sent, tasks run after).
    answer.background = BackgroundTask(wake_sender, request)
    return answer


# --- unsubscribe -----------------------------------------------------------------------------


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, opened: UnsubscribeLink) -> HTMLResponse:
    return _button_page(request, opened, "web/unsubscribe.html")


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_submit(
    request: Request,
    opened: UnsubscribeLink,
    one_click: Annotated[str, Form(alias="List-Unsubscribe")] = "",
) -> HTMLResponse:
    """RFC 8058: a mail provider POSTs `List-Unsubscribe=One-Click` to the URL in the header.

    No cookie, no CSRF token and no redirect: the token in the URL is the proof, the answer is
    a 200 and a second POST changes nothing.
    """
    runtime = runtime_of(request)
    detail = "one-click (RFC 8058)" if one_click == "One-Click" else "unsubscribe page"
    subscriber = opened.subscriber
    unsubscribe(opened.session, subscriber, runtime.clock.now(), detail, client_of(request))
    return page(
        request, "web/unsubscribed.html", {"email": subscriber.email, "token": opened.token}
    )


@router.post("/unsubscribe/undo", response_class=HTMLResponse, dependencies=[Csrf])
def undo_unsubscribe_submit(request: Request, opened: UnsubscribeLink) -> HTMLResponse:
    """Changed their mind: the unsubscribe link proves the address, so no new confirmation."""
    runtime = runtime_of(request)
    now = runtime.clock.now()
    subscriber = opened.subscriber
    if not undo_unsubscribe(opened.session, subscriber, now, client_of(request)):
        raise error(
            409,
            "This unsubscribe can no longer be undone here. To receive our emails again, "
            "subscribe with the form: we will send you a confirmation link.",
        )
    return _confirmed(request, opened, now, undone=True)


def _confirmed(request: Request, opened: Link, now: datetime, *, undone: bool) -> HTMLResponse:
    """The subscribed page: what the reader will get, in their own cadences when not weekly."""
    runtime = runtime_of(request)
    subscriber = opened.subscriber
    chosen = chosen_topics(opened.session, subscriber.id)
    context = {
        "preferences_url": _link(runtime, Purpose.PREFERENCES, subscriber, now),
        "undone": undone,
        "how_often": what_they_get(chosen, runtime.settings.digest.daily_send_time),
    }
    return page(request, "web/confirmed.html", context)


# --- preferences -----------------------------------------------------------------------------


def _preferences_context(
    runtime: Runtime, session: Session, subscriber: Subscriber, token: str
) -> dict[str, Any]:
    now = runtime.clock.now()
    chosen = {link.topic_id for link in subscriber.topics}
    topics = _topics(session)
    paused = (
        subscriber.paused_until
        if subscriber.paused_until and subscriber.paused_until > now
        else None
    )
    return {
        "token": token,
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status.value,
        "topics": topics,
        # No topic chosen means every topic, new ones included.
        "chosen": chosen or {topic.id for topic in topics},
        "cadence_of": {link.topic_id: link.cadence.value for link in subscriber.topics},
        "paused_until": paused.astimezone(runtime.settings.zone) if paused else None,
        "pause_choices": PAUSE_CHOICES,
        "unsubscribe_url": _link(runtime, Purpose.UNSUBSCRIBE, subscriber, now),
        "saved": None,
        "error": None,
    }


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, opened: PreferencesLink) -> HTMLResponse:
    runtime = runtime_of(request)
    context = _preferences_context(runtime, opened.session, opened.subscriber, opened.token)
    return page(request, "web/preferences.html", context)


@router.post("/preferences", response_class=HTMLResponse, dependencies=[Csrf])
def preferences_submit(
    request: Request,
    opened: PreferencesLink,
    topics: Annotated[list[str] | None, Form()] = None,
    # "keep" (the form's default) leaves a pause as it is: saving a name never resumes mail.
    pause_weeks: Annotated[str, Form(pattern=r"^(keep|\d{1,2})$")] = "keep",
    name: Annotated[str | None, Form()] = None,
    # One "slug:cadence" a topic; a form from before cadences sends none and keeps them.
    cadences: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    runtime = runtime_of(request)
    session, subscriber = opened.session, opened.subscriber
    try:
        known = known_topics(session)
        chosen = known.ids(topics or [])
        how_often = pairs(known, cadences, runtime.cadences) if cadences is not None else None
        pause = None if pause_weeks == "keep" else int(pause_weeks)
        wanted = Preferences(topics=chosen, pause_weeks=pause, name=name, cadences=how_often)
        changes = update_preferences(
            session, subscriber, wanted, runtime.clock.now(), client_of(request)
        )
    except (InvalidToken, UnknownTopic) as exc:
        raise bad_link(runtime, Purpose.PREFERENCES, exc) from None
    except (InvalidName, InvalidPause, UnknownCadence) as exc:
        context = _preferences_context(runtime, session, subscriber, opened.token)
        context["error"] = f"Nothing was saved: {exc}."
        return page(request, "web/preferences.html", context, 422)
    session.flush()
    context = _preferences_context(runtime, session, subscriber, opened.token)
    context["saved"] = changes
    return page(request, "web/preferences.html", context)
