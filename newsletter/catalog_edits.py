"""Editors' changes to sources and topics (the admin's); each is stamped with who made it."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.catalog import apply, config_of
from newsletter.config import SelectorSettings, SourceSettings, TopicSettings
from newsletter.errors import NewsletterError
from newsletter.models import Post, PostSource, Source, Topic, post_topics
from subscribers.models import SubscriberTopic

log = logging.getLogger(__name__)
SELECTOR_FIELDS = tuple(SelectorSettings.model_fields)
MAX_FIELD = 2000
Row = TypeVar("Row", Source, Topic)


class CatalogError(NewsletterError):
    """What is wrong with an editor's change, in words to show them."""


def problems(exc: ValidationError) -> str:
    """The validation errors by field, never quoting the value typed."""
    found = exc.errors(include_url=False, include_input=False, include_context=False)
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'form'}: {error['msg']}"
        for error in found
    )


def source_settings(fields: Mapping[str, str], topics: list[str]) -> SourceSettings:
    """A source's form fields as settings; CatalogError says what is wrong."""
    if any(len(value) > MAX_FIELD for value in fields.values()):
        raise CatalogError(f"a field is longer than {MAX_FIELD} characters")
    kind = fields.get("kind", "")
    selectors = {
        name: fields[name].strip() for name in SELECTOR_FIELDS if fields.get(name, "").strip()
    }
    data: dict[str, object] = {
        "name": fields.get("name", "").strip(),
        "kind": kind,
        "url": fields.get("url", "").strip() or None,
        "topics": topics,
        "selectors": selectors if kind == "html" and selectors else None,
        "max_pages": fields.get("max_pages", "").strip() or None,
    }
    try:
        wanted = SourceSettings.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(problems(exc)) from None
    if not wanted.name or len(wanted.name) > 100:
        raise CatalogError("name: between 1 and 100 characters")
    if wanted.kind != "push" and wanted.url is None:
        raise CatalogError(f"url: a {wanted.kind} source needs an address")
    if wanted.url is not None and wanted.url.scheme not in ("http", "https"):
        raise CatalogError("url: http or https only")
    return wanted


def save_source(
    session: Session,
    wanted: SourceSettings,
    editor: str,
    now: datetime,
    source_id: int | None = None,
) -> Source:
    """Add a source, or change one; its enabled state and push key are kept on a change."""
    known = {topic.slug for topic in session.scalars(select(Topic))}
    unknown = [slug for slug in wanted.topics if slug not in known]
    if unknown:
        raise CatalogError(f"topics: no topic {unknown[0]!r}")
    clash = session.scalars(select(Source).where(Source.name == wanted.name)).first()
    if clash is not None and clash.id != source_id:
        raise CatalogError(f"name: there is already a source named {wanted.name!r}")
    if source_id is None:
        source = Source(name=wanted.name, created_at=now)
        session.add(source)
    else:
        source = load_source(session, source_id)
        old = config_of(source)
        wanted = wanted.model_copy(
            update={"enabled": old.enabled, "api_key_sha256": old.api_key_sha256}
        )
        source.name = wanted.name
    apply(source, wanted)
    _stamp(source, editor, now)
    session.flush()
    log.info("source %s saved by %s", source.name, editor)
    return source


def load_source(session: Session, source_id: int) -> Source:
    return _row(session, Source, source_id, "no such source")


def _row(session: Session, model: type[Row], ident: int, missing: str) -> Row:
    found = session.get(model, ident)
    if found is None:
        raise CatalogError(missing)
    return found


def set_enabled(
    session: Session, source_id: int, enabled: bool, editor: str, now: datetime
) -> Source:
    source = load_source(session, source_id)
    source.enabled = enabled
    _stamp(source, editor, now)
    log.info("source %s %s by %s", source.name, "enabled" if enabled else "disabled", editor)
    return source


def remove_source(session: Session, source_id: int, editor: str) -> str:
    """Only a source that brought no posts goes: the archive keeps where its posts came from."""
    source = load_source(session, source_id)
    posts = session.scalar(
        select(func.count()).select_from(PostSource).where(PostSource.source_id == source.id)
    )
    carried = session.scalar(select(func.count()).where(Post.source_id == source.id))
    if posts or carried:
        raise CatalogError(
            f"{source.name} brought {max(posts or 0, carried or 0)} posts; disable it instead, "
            "so the archive keeps where they came from"
        )
    name = source.name
    session.delete(source)
    log.info("source %s removed by %s", name, editor)
    return name


def new_key(session: Session, source_id: int, editor: str, now: datetime) -> str:
    """A fresh API key for a push source: only its hash is stored, the key is shown once."""
    source = load_source(session, source_id)
    if source.kind != "push":
        raise CatalogError(f"{source.name} is a {source.kind} source; only push sources have keys")
    key = secrets.token_urlsafe(32)
    source.api_key_sha256 = hashlib.sha256(key.encode()).hexdigest()
    _stamp(source, editor, now)
    log.info("source %s: new API key made by %s", source.name, editor)
    return key


def topic_settings(fields: Mapping[str, str]) -> TopicSettings:
    if any(len(value) > MAX_FIELD for value in fields.values()):
        raise CatalogError(f"a field is longer than {MAX_FIELD} characters")
    try:
        wanted = TopicSettings.model_validate(
            {
                "slug": fields.get("slug", "").strip(),
                "name": fields.get("name", "").strip(),
                "description": fields.get("description", "").strip(),
            }
        )
    except ValidationError as exc:
        raise CatalogError(problems(exc)) from None
    if not wanted.name or len(wanted.name) > 200:
        raise CatalogError("name: between 1 and 200 characters")
    if len(wanted.slug) > 100:
        raise CatalogError("slug: at most 100 characters")
    return wanted


def save_topic(
    session: Session,
    wanted: TopicSettings,
    editor: str,
    now: datetime,
    topic_id: int | None = None,
) -> Topic:
    """Add a topic, or rename and describe one; a topic's slug is its address and stays."""
    if topic_id is None:
        if session.scalars(select(Topic).where(Topic.slug == wanted.slug)).first() is not None:
            raise CatalogError(f"slug: there is already a topic {wanted.slug!r}")
        topic = Topic(slug=wanted.slug)
        session.add(topic)
    else:
        topic = load_topic(session, topic_id)
    topic.name, topic.description = wanted.name, wanted.description
    topic.edited_by, topic.edited_at = editor, now
    session.flush()
    log.info("topic %s saved by %s", topic.slug, editor)
    return topic


def load_topic(session: Session, topic_id: int) -> Topic:
    return _row(session, Topic, topic_id, "no such topic")


def remove_topic(session: Session, topic_id: int, editor: str) -> str:
    """Only a topic no post, reader or source uses: readers' choices stay whole."""
    topic = load_topic(session, topic_id)
    readers = session.scalar(select(func.count()).where(SubscriberTopic.topic_id == topic.id))
    if readers:
        raise CatalogError(f"{topic.name} is chosen by {readers} readers; it stays")
    posts = session.scalar(
        select(func.count()).select_from(post_topics).where(post_topics.c.topic_id == topic.id)
    )
    if posts:
        raise CatalogError(f"{topic.name} has {posts} posts; it stays for the archive")
    users = [s.name for s in session.scalars(select(Source)) if topic.slug in (s.topics or [])]
    if users:
        raise CatalogError(f"{topic.name} is a topic of the source {users[0]}; change it first")
    slug = topic.slug
    session.delete(topic)
    log.info("topic %s removed by %s", slug, editor)
    return slug


def _stamp(source: Source, editor: str, now: datetime) -> None:
    source.edited_by, source.edited_at = editor, now
