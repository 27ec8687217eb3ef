"""Public subscription pages: signup, confirmation, one-click unsubscribe, preferences."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from newsletter.confirmations import ConfirmationSender
from newsletter.models import Topic
from newsletter.runtime import Runtime
from newsletter.web import csrf
from newsletter.web.state import runtime_of
from subscribers.addresses import normalise
from subscribers.errors import (
    ExpiredToken,
    InvalidAddress,
    InvalidName,
    InvalidToken,
    QueueFull,
    UnknownTopic,
)
from subscribers.links import link
from subscribers.manage import (
    MAX_PAUSE_WEEKS,
    Preferences,
    confirm,
    subscriber_for_token,
    unsubscribe,
    update_preferences,
)
from subscribers.models import Subscriber
from subscribers.queue import enqueue
from subscribers.ratelimit import DatabaseStore, Limit, RateLimiter
from subscribers.signup import check_name
from subscribers.tokens import Purpose
from subscribers.topics import known_topics

log = logging.getLogger(__name__)


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
router = APIRouter(lifespan=_confirmation_sender)

PAUSE_CHOICES = (1, 2, 4, 8, 12)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
TokenQuery = Annotated[str, Query()]
FormStr = Annotated[str, Form()]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page with a fresh CSRF field; pages carry tokens, so they are never cached."""
    runtime = runtime_of(request)
    templates: Jinja2Templates = request.app.state.templates
    field, nonce = csrf.issue(request, runtime.signing_key)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        {"site": runtime.settings.site, "csrf_field": csrf.FIELD, "csrf_token": field, **context},
        status_code=status_code,
        headers=NO_STORE,
    )
    csrf.set_cookie(response, nonce, secure=runtime.settings.site.base_url.startswith("https:"))
    return response


def _bad_link(request: Request, purpose: Purpose, exc: Exception) -> HTMLResponse:
    """A link that is not good (400), or a genuine one that is too old: then what to do instead."""
    if isinstance(exc, ExpiredToken):
        settings = runtime_of(request).settings.subscribers
        days = {
            Purpose.CONFIRM: settings.confirmation_max_age_days,
            Purpose.UNSUBSCRIBE: settings.unsubscribe_link_max_age_days,
            Purpose.PREFERENCES: settings.preferences_link_max_age_days,
        }.get(purpose)
        context = {"purpose": purpose.value, "days": days}
        return _page(request, "web/link_expired.html", context, 410)
    message = f"{str(exc).capitalize()}. Nothing was changed."
    return _page(request, "web/error.html", {"status_code": 400, "message": message}, 400)


def _expired_form(request: Request) -> HTMLResponse:
    message = "This form has expired. Please go back, reload the page and try again."
    return _page(request, "web/error.html", {"status_code": 403, "message": message}, 403)


def _topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.name)))


def _read(request: Request, session: Session, purpose: Purpose, token: str) -> Subscriber:
    """The subscriber a link names; InvalidToken for any link that is not good for `purpose`."""
    runtime = runtime_of(request)
    settings = runtime.settings
    days = {
        Purpose.CONFIRM: settings.subscribers.confirmation_max_age_days,
        Purpose.UNSUBSCRIBE: settings.subscribers.unsubscribe_link_max_age_days,
        Purpose.PREFERENCES: settings.subscribers.preferences_link_max_age_days,
    }[purpose]
    return subscriber_for_token(
        session,
        runtime.verification_keys,
        purpose,
        token,
        runtime.clock.now(),
        timedelta(days=days),
    )


def _button_page(request: Request, purpose: Purpose, token: str, template: str) -> HTMLResponse:
    """What a mailed link opens: a page with a button. Reading it never changes anything."""
    with runtime_of(request).sessions() as session:
        try:
            subscriber = _read(request, session, purpose, token)
        except InvalidToken as exc:
            return _bad_link(request, purpose, exc)
        context = {"token": token, "email": subscriber.email, "status": subscriber.status.value}
    return _page(request, template, context)


# --- signup ----------------------------------------------------------------------------------


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> HTMLResponse:
    with runtime_of(request).sessions() as session:
        topics = _topics(session)
    return _page(request, "web/subscribe.html", {"topics": topics, "form": {}, "error": None})


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(
    request: Request,
    email: FormStr = "",
    name: FormStr = "",
    topics: Annotated[list[str] | None, Form()] = None,
    website: FormStr = "",
    csrf_token: FormStr = "",
) -> HTMLResponse:
    runtime = runtime_of(request)
    settings = runtime.settings.subscribers
    now = runtime.clock.now()
    client = _client(request)
    if not csrf.valid(request, runtime.signing_key, csrf_token):
        return _expired_form(request)
    done = _page(request, "web/subscribe_done.html", {})
    if website:
        log.info("signup from %s dropped: the honeypot field was filled", client)
        return done
    limiter = RateLimiter(DatabaseStore(runtime.sessions))
    window = settings.rate_limit_window
    if not limiter.allow(
        Limit("subscribe-client", settings.rate_limit_per_client, window), client, now
    ):
        log.warning("signup from %s refused: over the per-client rate limit", client)
        message = "Too many signups from your network. Please try again later."
        return _page(request, "web/error.html", {"status_code": 429, "message": message}, 429)
    form = {"email": email, "name": name, "topics": topics or []}
    with runtime.sessions() as session:
        try:
            address = normalise(email, check_deliverability=settings.check_deliverability)
            checked_name = check_name(name)
            chosen = known_topics(session).ids(topics or [])
        except (InvalidAddress, InvalidName, UnknownTopic) as exc:
            context = {"topics": _topics(session), "form": form, "error": str(exc)}
            return _page(request, "web/subscribe.html", context, 422)
    # Over the per-address limit the visitor sees the same page: it must not tell anyone
    # whether the address is known, and a real owner has already been mailed.
    if not limiter.allow(
        Limit("subscribe-email", settings.rate_limit_per_email, window), address, now
    ):
        log.warning("signup for an address from %s dropped: per-address rate limit", client)
        return done
    # The same work for every address, known or not: one row queued. The background sender
    # stores it and mails the link, so neither the answer nor its timing tells them apart.
    try:
        with runtime.sessions.begin() as session:
            enqueue(session, address, checked_name, chosen, client, now)
    except QueueFull as exc:
        log.warning("signup from %s refused: %s", client, exc)
        message = "We are receiving too many signups right now. Please try again in an hour."
        return _page(request, "web/error.html", {"status_code": 503, "message": message}, 503)
    sender: ConfirmationSender | None = getattr(request.app.state, "confirmation_sender", None)
    if sender is not None:
        sender.wake()
    return done


# --- confirmation ----------------------------------------------------------------------------


@router.get("/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: TokenQuery = "") -> HTMLResponse:
    return _button_page(request, Purpose.CONFIRM, token, "web/confirm.html")


@router.post("/confirm", response_class=HTMLResponse)
def confirm_submit(request: Request, token: FormStr = "", csrf_token: FormStr = "") -> HTMLResponse:
    runtime = runtime_of(request)
    secret = runtime.signing_key
    if not csrf.valid(request, secret, csrf_token):
        return _expired_form(request)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        try:
            subscriber = _read(request, session, Purpose.CONFIRM, token)
            confirm(session, subscriber, now, _client(request))
        except InvalidToken as exc:
            return _bad_link(request, Purpose.CONFIRM, exc)
        preferences = link(
            runtime.settings.site.base_url,
            secret,
            Purpose.PREFERENCES,
            subscriber.id,
            subscriber.email,
            now,
        )
    return _page(request, "web/confirmed.html", {"preferences_url": preferences})


# --- unsubscribe -----------------------------------------------------------------------------


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: TokenQuery = "") -> HTMLResponse:
    return _button_page(request, Purpose.UNSUBSCRIBE, token, "web/unsubscribe.html")


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_submit(
    request: Request,
    token: TokenQuery = "",
    form_token: Annotated[str, Form(alias="token")] = "",
    one_click: Annotated[str, Form(alias="List-Unsubscribe")] = "",
) -> HTMLResponse:
    """RFC 8058: a mail provider POSTs `List-Unsubscribe=One-Click` to the URL in the header.

    No cookie, no CSRF token and no redirect: the token in the URL is the proof, the answer is
    a 200 and a second POST changes nothing.
    """
    runtime = runtime_of(request)
    now = runtime.clock.now()
    detail = "one-click (RFC 8058)" if one_click == "One-Click" else "unsubscribe page"
    with runtime.sessions.begin() as session:
        try:
            subscriber = _read(request, session, Purpose.UNSUBSCRIBE, token or form_token)
        except InvalidToken as exc:
            return _bad_link(request, Purpose.UNSUBSCRIBE, exc)
        unsubscribe(session, subscriber, now, detail, _client(request))
        email = subscriber.email
    return _page(request, "web/unsubscribed.html", {"email": email})


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
        "paused_until": paused.astimezone(runtime.settings.zone) if paused else None,
        "pause_choices": PAUSE_CHOICES,
        "unsubscribe_url": link(
            runtime.settings.site.base_url,
            runtime.signing_key,
            Purpose.UNSUBSCRIBE,
            subscriber.id,
            subscriber.email,
            now,
        ),
        "saved": None,
        "error": None,
    }


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, token: TokenQuery = "") -> HTMLResponse:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        try:
            subscriber = _read(request, session, Purpose.PREFERENCES, token)
        except InvalidToken as exc:
            return _bad_link(request, Purpose.PREFERENCES, exc)
        context = _preferences_context(runtime, session, subscriber, token)
    return _page(request, "web/preferences.html", context)


@router.post("/preferences", response_class=HTMLResponse)
def preferences_submit(
    request: Request,
    token: FormStr = "",
    topics: Annotated[list[str] | None, Form()] = None,
    pause_weeks: Annotated[int, Form(ge=0, le=MAX_PAUSE_WEEKS)] = 0,
    name: Annotated[str | None, Form()] = None,
    csrf_token: FormStr = "",
) -> HTMLResponse:
    runtime = runtime_of(request)
    secret = runtime.signing_key
    if not csrf.valid(request, secret, csrf_token):
        return _expired_form(request)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        try:
            subscriber = _read(request, session, Purpose.PREFERENCES, token)
            known = known_topics(session)
            chosen = known.ids(topics or [])
            if chosen == known.all:
                chosen = frozenset()  # every topic, including those added later
            wanted = Preferences(topics=chosen, pause_weeks=pause_weeks, name=name)
            changes = update_preferences(session, subscriber, wanted, now, _client(request))
        except (InvalidToken, UnknownTopic) as exc:
            return _bad_link(request, Purpose.PREFERENCES, exc)
        except InvalidName as exc:
            context = _preferences_context(runtime, session, subscriber, token)
            context["error"] = f"Nothing was saved: {exc}."
            return _page(request, "web/preferences.html", context, 422)
        session.flush()
        context = _preferences_context(runtime, session, subscriber, token)
    context["saved"] = changes
    return _page(request, "web/preferences.html", context)
