"""What the public forms share: pages that carry a CSRF field, the `Csrf` check, mailed links."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from newsletter.runtime import Runtime
from newsletter.web import csrf
from newsletter.web.state import runtime_of
from subscribers.errors import ExpiredToken, InvalidToken, SubscribersError
from subscribers.manage import subscriber_for_token
from subscribers.models import Subscriber
from subscribers.tokens import Purpose

# Pages carry tokens (the CSRF field, a subscriber's link): never cached, never sent onwards.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page with a fresh CSRF field (and the cookie it pairs with, for a first visit)."""
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


class Refused(Exception):
    """Answer with this page instead of the route's own: a bad link, an expired form, a limit.

    Raised by a dependency or a route; PublicRoute renders it, for people and mail providers
    alike (the app's error pages answer JSON to anything that does not ask for HTML).
    """

    def __init__(self, template: str, context: dict[str, Any], status_code: int) -> None:
        super().__init__(template)
        self.template = template
        self.context = context
        self.status_code = status_code


def error(status_code: int, message: str) -> Refused:
    return Refused("web/error.html", {"status_code": status_code, "message": message}, status_code)


class PublicRoute(APIRoute):
    """A route whose dependencies may answer with a page, by raising Refused."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as refused:
                return page(request, refused.template, refused.context, refused.status_code)

        return answer


async def check_csrf(request: Request) -> None:
    """The form's signed field must match this browser's cookie, else a 403 asking for a reload."""
    submitted = (await request.form()).get(csrf.FIELD)
    secret = runtime_of(request).signing_key
    if not (isinstance(submitted, str) and csrf.valid(request, secret, submitted)):
        raise error(403, "This form has expired. Please go back, reload the page and try again.")


Csrf = Depends(check_csrf)


def max_age(runtime: Runtime, purpose: Purpose) -> timedelta:
    """How long a mailed link for `purpose` stays good, as the site is set up."""
    settings = runtime.settings.subscribers
    days = {
        Purpose.CONFIRM: settings.confirmation_max_age_days,
        Purpose.UNSUBSCRIBE: settings.unsubscribe_link_max_age_days,
        Purpose.PREFERENCES: settings.preferences_link_max_age_days,
    }[purpose]
    return timedelta(days=days)


def bad_link(runtime: Runtime, purpose: Purpose, exc: SubscribersError) -> Refused:
    """A link that is not good (400), or a genuine one that is too old (410, and what to do)."""
    if isinstance(exc, ExpiredToken):
        days = max_age(runtime, purpose).days
        return Refused("web/link_expired.html", {"purpose": purpose.value, "days": days}, 410)
    # Used, altered or cut short in a mail client: either way, fresh links are one step away.
    message = f"{str(exc).capitalize()}. Nothing was changed."
    return Refused(
        "web/error.html", {"status_code": 400, "message": message, "offer_new_link": True}, 400
    )


async def link_token(request: Request) -> str:
    """The token of a mailed link: in the URL (links, RFC 8058 one-click), else the form's."""
    token = request.query_params.get("token")
    if not token and request.method == "POST":
        token = str((await request.form()).get("token") or "")
    return token or ""


@dataclass(frozen=True)
class Link:
    """A mailed link that checked out: its subscriber, in a transaction that commits on return."""

    token: str
    subscriber: Subscriber
    session: Session


def subscriber_for(purpose: Purpose) -> Any:
    """A dependency: the subscriber a link for `purpose` names, or the 400 / 410 page."""

    def opened(request: Request, token: str = Depends(link_token)) -> Iterator[Link]:
        runtime = runtime_of(request)
        with runtime.sessions.begin() as session:
            try:
                subscriber = subscriber_for_token(
                    session,
                    runtime.verification_keys,
                    purpose,
                    token,
                    runtime.clock.now(),
                    max_age(runtime, purpose),
                )
            except InvalidToken as exc:
                raise bad_link(runtime, purpose, exc) from None
            yield Link(token, subscriber, session)

    # Around the route only: the changes commit before the answer goes out, not after.
    return Depends(opened, scope="function")
