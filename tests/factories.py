"""Rows for tests and benchmarks: issues and their variants, subscribers, topics and posts.

Each builder takes the instant it stands for (`at`, from the test's clock or its fixed NOW) and
fills in what the schema requires, so a test names only what it is about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter import catalog
from newsletter.config import Settings
from newsletter.digest.placeholders import html_marker, marker
from newsletter.models import Issue, IssueStatus, IssueVariant, Post, Topic
from subscribers.models import Status, Subscriber, SubscriberTopic

WEEK = timedelta(days=7)
BULK_PAGE = 20_000  # rows per INSERT when adding readers in bulk


def issue(
    at: datetime,
    *,
    key: str = "2026-W48",
    status: IssueStatus = IssueStatus.DRAFT,
    variants: Iterable[IssueVariant] = (),
    **fields: Any,
) -> Issue:
    """An issue for the week ending `at`, created then; `fields` sets any other column."""
    return Issue(
        key=key,
        status=status,
        period_start=at - WEEK,
        period_end=at,
        created_at=at,
        updated_at=at,
        variants=list(variants),
        **fields,
    )


def variant(
    at: datetime, html: str, text: str, *, subject: str = "Weekly", topic_key: str = ""
) -> IssueVariant:
    """One stored rendering of an issue (all topics unless `topic_key` says which)."""
    return IssueVariant(topic_key=topic_key, subject=subject, html=html, text=text, rendered_at=at)


def variant_text(label: str) -> tuple[str, str]:
    """A short HTML and text body carrying the name, preferences and unsubscribe markers."""
    html = (
        f"<html><body><p>Hello {html_marker('name')}, this is the {label} edition.</p>"
        f'<a href="{html_marker("preferences_url")}">Preferences</a> '
        f'<a href="{html_marker("unsubscribe_url")}">Unsubscribe</a></body></html>'
    )
    text = (
        f"Hello {marker('name')}, this is the {label} edition.\n\n"
        f"Preferences: {marker('preferences_url')}\nUnsubscribe: {marker('unsubscribe_url')}\n"
    )
    return html, text


def subscriber(
    email: str,
    at: datetime,
    *,
    name: str = "",
    status: Status = Status.ACTIVE,
    topics: Iterable[Topic] = (),
    **fields: Any,
) -> Subscriber:
    """A subscriber (active unless said otherwise) who signed up at `at`, to stored `topics`."""
    person = Subscriber(
        email=email, name=name, status=status, created_at=at, updated_at=at, **fields
    )
    person.topics = [SubscriberTopic(topic_id=topic.id) for topic in topics]
    return person


def add_subscriber(
    session: Session, email: str, at: datetime, topics: list[Topic] | None = None
) -> Subscriber:
    """subscriber(), stored."""
    person = subscriber(email, at, topics=topics or [])
    session.add(person)
    session.flush()
    return person


def insert_readers(
    sessions: sessionmaker[Session], count: int, at: datetime, domain: str = "example.net"
) -> None:
    """`count` active subscribers reader<n>@`domain`, inserted in bulk pages (for large sends)."""
    for start in range(0, count, BULK_PAGE):
        rows = [
            {
                "email": f"reader{n}@{domain}",
                "name": f"Reader {n}",
                "status": Status.ACTIVE,
                "attributes": {},
                "soft_bounces": 0,
                "created_at": at,
                "updated_at": at,
            }
            for n in range(start, min(count, start + BULK_PAGE))
        ]
        with sessions.begin() as session:
            session.execute(insert(Subscriber), rows)


def add_topics(session: Session, settings: Settings, at: datetime) -> dict[str, Topic]:
    """The settings' topics, stored as the catalog sync stores them, by slug."""
    catalog.sync(session, settings, at)
    session.flush()
    return {topic.slug: topic for topic in session.scalars(select(Topic))}


def add_post(
    session: Session,
    slug: str,
    published_at: datetime,
    topics: list[Topic] | None = None,
    *,
    title: str | None = None,
    image: bool = False,
    first_seen_at: datetime | None = None,
    announced: bool = False,
) -> Post:
    """A post as the collector stores it, at https://news.example.org/<slug>/."""
    url = f"https://news.example.org/{slug}/"
    post = Post(
        url=url,
        content_hash=hashlib.sha256(url.encode()).hexdigest(),
        title=title or slug.replace("-", " ").title(),
        teaser=f"The teaser of {slug}.",
        image_url=f"https://news.example.org/{slug}.png" if image else None,
        image_alt=f"Picture for {slug}" if image else None,
        published_at=published_at,
        updated_at=published_at,
        first_seen_at=first_seen_at or published_at,
        announced=announced,
        topics=topics or [],
    )
    session.add(post)
    session.flush()
    return post


def altered(token: str) -> str:
    """`token` with one character in its middle changed.

    Not the last: a base64 string's last character may carry only padding bits, so changing it
    can leave the decoded bytes, and the signature, as they were.
    """
    middle = len(token) // 2
    swap = "A" if token[middle] != "A" else "B"
    return token[:middle] + swap + token[middle + 1 :]
