"""Digest test fixtures: topics, posts and subscribers stored as the collector would."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter import catalog
from newsletter.config import Settings
from newsletter.models import Post, Topic
from subscribers.models import Status, Subscriber, SubscriberTopic


def add_topics(session: Session, settings: Settings, now: datetime) -> dict[str, Topic]:
    catalog.sync(session, settings, now)
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


def add_subscriber(
    session: Session, email: str, now: datetime, topics: list[Topic] | None = None
) -> Subscriber:
    subscriber = Subscriber(
        email=email, name="", status=Status.ACTIVE, created_at=now, updated_at=now
    )
    session.add(subscriber)
    session.flush()
    for topic in topics or []:
        session.add(SubscriberTopic(subscriber_id=subscriber.id, topic_id=topic.id))
    session.flush()
    return subscriber
