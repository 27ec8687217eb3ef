"""POST /api/posts: a CMS pushes one post, authenticated by its source's API key."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from newsletter.collect.item import RawItem
from newsletter.collect.run import accept
from newsletter.collect.store import Outcome
from newsletter.config import Settings, SourceSettings
from newsletter.errors import CollectError, EntrySkipped
from newsletter.pipeline.publishing import publish_pushed
from newsletter.runtime import Runtime

router = APIRouter()


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


def source_for_key(settings: Settings, key: str) -> SourceSettings | None:
    """The push source whose key this is; every hash is compared, in constant time."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    found: SourceSettings | None = None
    for source in settings.sources:
        expected = source.api_key_sha256 if source.kind == "push" else None
        if expected and hmac.compare_digest(digest, expected) and found is None:
            found = source
    return found


@router.post("/api/posts")
def push_post(
    request: Request,
    post: PushedPost,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    key = x_api_key or _bearer(authorization)
    source = source_for_key(runtime.settings, key) if key else None
    if source is None:
        raise HTTPException(
            401,
            "a valid API key is needed (Authorization: Bearer KEY)",
            {"WWW-Authenticate": "Bearer"},
        )
    if not source.enabled:
        raise HTTPException(403, f"source {source.name!r} is disabled")
    try:
        outcome, post_id = accept(runtime, source.name, post.raw())
    except EntrySkipped as exc:
        raise HTTPException(422, str(exc)) from None
    except CollectError as exc:
        raise HTTPException(503, str(exc)) from None
    if outcome in (Outcome.NEW, Outcome.UPDATED):
        publish_pushed(runtime, post_id)
    status = 201 if outcome is Outcome.NEW else 200
    return JSONResponse({"id": post_id, "outcome": outcome.value}, status_code=status)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
