"""POST /api/posts: a CMS pushes one post, authenticated by its source's API key."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from newsletter import catalog
from newsletter.collect.item import RawItem
from newsletter.collect.store import Outcome
from newsletter.config import SourceSettings
from newsletter.errors import CollectError, EntrySkipped
from newsletter.models import Source
from newsletter.pipeline.publishing import accept_and_publish
from newsletter.runtime import Runtime
from newsletter.web.bearer import bearer_token

router = APIRouter()
# What a skipped entry's message quotes from the post (a link, a date): left out of the answer.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\d{4}-\d\d-\d\dT\S+")


class PushedPost(BaseModel):
    """One post as a CMS sends it; HTML fields are sanitised like every other source's."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=2000)
    url: HttpUrl
    guid: str | None = Field(default=None, max_length=2000)
    excerpt: str | None = Field(default=None, max_length=100_000)
    content_html: str | None = Field(default=None, max_length=2_000_000)
    author: str | None = Field(default=None, max_length=300)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    categories: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    image_url: HttpUrl | None = None
    image_alt: str | None = Field(default=None, max_length=500)

    def raw(self) -> RawItem:
        return RawItem(
            title=self.title,
            link=str(self.url),
            guid=self.guid,
            excerpt_html=self.excerpt,
            content_html=self.content_html,
            author=self.author,
            published=self.published_at,
            updated=self.updated_at,
            categories=list(self.categories),
            image_url=str(self.image_url) if self.image_url else None,
            image_alt=self.image_alt,
        )


def source_for_key(runtime: Runtime, key: str) -> SourceSettings | None:
    """The push source in the database whose key this is; every hash compared in constant time."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    with runtime.sessions() as session:
        configured = [
            catalog.config_of(row)
            for row in session.scalars(select(Source).where(Source.kind == "push"))
        ]
    found: SourceSettings | None = None
    for source in configured:
        expected = source.api_key_sha256 if source.kind == "push" else None
        if expected and hmac.compare_digest(digest, expected) and found is None:
            found = source
    return found


@router.post("/api/posts")
async def push_post(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """The key is checked before a byte of the body is read; the body is read within its cap."""
    runtime: Runtime = request.app.state.runtime
    key = x_api_key or bearer_token(authorization)
    source = await run_in_threadpool(source_for_key, runtime, key) if key else None
    if source is None:
        raise HTTPException(
            401,
            "a valid API key is needed (Authorization: Bearer KEY)",
            {"WWW-Authenticate": "Bearer"},
        )
    if not source.enabled:
        raise HTTPException(403, f"source {source.name!r} is disabled")
    post = parse_post(await request.body())
    return await run_in_threadpool(_store, runtime, source.name, post)


def parse_post(body: bytes) -> PushedPost:
    """The body as a post, or a 400/422 naming what is wrong and never quoting what was sent."""
    try:
        return PushedPost.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(error["type"] == "json_invalid" for error in errors):
        raise HTTPException(400, "the body is not valid JSON (UTF-8, no lone surrogates)")
    problems = "; ".join(_problem(error) for error in errors)
    raise HTTPException(422, f"the post is not valid: {problems}")


def _problem(error: ErrorDetails) -> str:
    # Field names a client made up (unknown keys) are input too: only the API's own are named.
    where = ".".join(
        str(part) if isinstance(part, int) or part in PushedPost.model_fields else "(unknown)"
        for part in error["loc"]
    )
    return f"{where or 'body'}: {error['msg']}"


def _store(runtime: Runtime, source_name: str, post: PushedPost) -> JSONResponse:
    try:
        accepted = accept_and_publish(runtime, source_name, post.raw())
    except EntrySkipped as exc:
        raise HTTPException(422, _QUOTED.sub("…", str(exc))) from None
    except CollectError as exc:
        raise HTTPException(503, str(exc)) from None
    status = 201 if accepted.outcome is Outcome.NEW else 200
    return JSONResponse(
        {"id": accepted.post_id, "outcome": accepted.outcome.value}, status_code=status
    )
