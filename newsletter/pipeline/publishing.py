"""collect → publish: new and changed posts rebuild the feeds they appear in."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from newsletter.collect.run import CollectReport, SourceReport, collect
from newsletter.models import Post, Topic, post_topics
from newsletter.publish.rebuild import rebuild
from newsletter.runtime import Runtime


def collect_and_publish(
    runtime: Runtime,
    names: Sequence[str] = (),
    on_source: Callable[[SourceReport], None] | None = None,
) -> CollectReport:
    """collect → publish: feeds are rebuilt only for the topics whose posts changed."""
    report = collect(runtime, names, on_source=on_source)
    if report.changed:
        rebuild(runtime, report.topics)
    return report


def publish_pushed(runtime: Runtime, post_id: int) -> list[str]:
    """A post pushed by the CMS changes the site feeds and its own topics' feeds."""
    with runtime.sessions() as session:
        slugs = set(
            session.scalars(
                select(Topic.slug)
                .join(post_topics, post_topics.c.topic_id == Topic.id)
                .join(Post, Post.id == post_topics.c.post_id)
                .where(Post.id == post_id)
            )
        )
    return rebuild(runtime, slugs)
