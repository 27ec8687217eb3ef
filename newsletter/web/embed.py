"""Signup from the newsroom's own pages: a pasted form and a JSON API, for allowed origins only.

Both go through the same signup policy as /subscribe (honeypot, rate limits, checks, one
queued request, double opt-in). A page on another site cannot carry our CSRF field, so the
browser's Origin header (else the Referer's) must be one of `[subscribers] embed_origins`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from newsletter.config.checks import url_origin
from newsletter.pipeline.signup import SignupForm, TooManySignups, take_signup
from newsletter.runtime import Runtime
from newsletter.web.public import PublicRoute, client_of, error, page
from newsletter.web.signups import (
    FIELD_OF,
    FieldError,
    SignupFieldsDep,
    queue_signup,
    wake_sender,
)
from newsletter.web.state import runtime_of
from subscribers.errors import QueueFull
from subscribers.origin import UTM_KEYS, SignupOrigin

router = APIRouter(route_class=PublicRoute)


def origin_of(request: Request) -> str | None:
    """The page's origin as the browser states it: Origin, else the Referer's; None if neither."""
    stated = request.headers.get("origin")
    if stated and stated != "null":
        return stated.lower().rstrip("/")
    return url_origin(request.headers.get("referer", ""))


def allowed_origin(runtime: Runtime, request: Request) -> str | None:
    """The requesting page's origin when it may sign readers up: ours, or an allowed site's."""
    origin = origin_of(request)
    if origin is not None and origin in _allowed(runtime):
        return origin
    return None


def _allowed(runtime: Runtime) -> list[str]:
    # Our own pages' forms (home, topics) are cached for every reader, so carry no CSRF field:
    # they post here too, known by their origin like a newsroom's.
    own = url_origin(runtime.settings.site.base_url)
    return [*runtime.settings.subscribers.embed_origins, *([own] if own else [])]


@router.post("/subscribe/embed", response_class=HTMLResponse)
def embedded_form(request: Request, fields: SignupFieldsDep) -> HTMLResponse:
    """The pasted form posts here: our "check your inbox" page, with the way back.

    Browsers send only the origin as the Referer of a cross-site form by default, so the page
    is the form's own `origin_page` (a CMS fills it in) when it is on the allowed site.
    """
    runtime = runtime_of(request)
    allowed = allowed_origin(runtime, request)
    if allowed is None:
        raise error(403, "This signup form is not on a site that may use it. Nothing was saved.")
    stated = fields.origin_page if url_origin(fields.origin_page) == allowed else ""
    if stated and allowed == url_origin(runtime.settings.site.base_url):
        stated = urlsplit(stated).path or "/"  # our own page: its path, as /subscribe records
    origin = SignupOrigin.read(stated or request.headers.get("referer", ""), "", {})
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
        raise error(422, f"{str(exc).capitalize()}. Please go back and try again.") from None
    # The way back only to a page of an allowed site, never wherever a Referer points.
    came_from = origin.page
    ours_or_allowed = came_from.startswith("/") or url_origin(came_from) in _allowed(runtime)
    back = came_from if ours_or_allowed else ""
    return page(request, "web/subscribe_done.html", {"back_url": back})


class ApiSignup(BaseModel):
    """POST /api/subscribe's body: what the form asks, and where the page was."""

    model_config = ConfigDict(extra="ignore")

    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    topics: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    website: str = Field(default="", max_length=500)  # the honeypot: people leave it empty
    # "weekly" (the default), "daily" or "each", for every topic chosen.
    cadence: str = Field(default="", max_length=20)
    page: str = Field(default="", max_length=2000)
    referrer: str = Field(default="", max_length=2000)
    utm: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=10
    )


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


@router.options("/api/subscribe")
def api_preflight(request: Request) -> Response:
    """CORS preflight: only an allowed origin is told it may POST JSON here."""
    origin = allowed_origin(runtime_of(request), request)
    if origin is None:
        return Response(status_code=403, headers={"Vary": "Origin"})
    headers = {
        **_cors(origin),
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


@router.post("/api/subscribe")
async def api_subscribe(request: Request) -> JSONResponse:
    """202 for every accepted body, known address or not: the confirmation mail decides."""
    runtime = runtime_of(request)
    origin = allowed_origin(runtime, request)
    if origin is None:
        return _answer(403, {"error": "this site may not sign readers up here"}, None)
    body = await request.body()
    try:
        wanted = ApiSignup.model_validate_json(body)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return _answer(400, {"error": "the body is not valid JSON"}, origin)
        return _answer(422, {"error": "some fields are not valid", "fields": fields}, origin)
    tags = {key: wanted.utm.get(key, "") for key in UTM_KEYS}
    page_url = wanted.page or request.headers.get("referer", "")
    where = SignupOrigin.read(page_url, wanted.referrer, tags)
    form = SignupForm(
        wanted.email,
        wanted.name,
        wanted.topics,
        wanted.website,
        client_of(request),
        where,
        wanted.cadence,
    )
    try:
        queued = await _take(runtime, form)
    except TooManySignups:
        return _answer(429, {"error": "too many signups from this network"}, origin)
    except FieldError as exc:
        return _answer(422, {"error": str(exc), "field": FIELD_OF[type(exc)]}, origin)
    except QueueFull:
        return _answer(503, {"error": "too many signups are waiting; try again later"}, origin)
    if queued:
        wake_sender(request)
    said = "check your inbox: if the address takes mail, a confirmation link is sent to it"
    return _answer(202, {"status": said}, origin)


async def _take(runtime: Runtime, form: SignupForm) -> bool:
    # The policy does database work: off the event loop, as a sync route would be.
    return await run_in_threadpool(take_signup, runtime, form)


def _answer(status: int, body: dict[str, Any], origin: str | None) -> JSONResponse:
    headers = _cors(origin) if origin else {"Vary": "Origin"}
    return JSONResponse(body, status_code=status, headers={**headers, "Cache-Control": "no-store"})
