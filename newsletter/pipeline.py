"""The pipeline in one place: each stage reads what the stage before it stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.collect.run import CollectReport, SourceReport, collect
from newsletter.deliver.plan import RenderVariant
from newsletter.deliver.transport import Transport, transport_from_settings
from newsletter.digest.build import BuildResult, build_issue
from newsletter.digest.variants import ensure_variant
from newsletter.editors.notify import local, tell_editors
from newsletter.models import Issue, IssuePost, IssueVariant, Post, Topic, post_topics
from newsletter.publish.rebuild import rebuild
from newsletter.runtime import Runtime
from newsletter.schedule.due import send_slot


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


def variant_renderer(runtime: Runtime) -> RenderVariant:
    """compose → deliver: a topic set that appeared after rendering is rendered at send time."""

    def render(session: Session, issue: Issue, topic_key: str) -> IssueVariant | None:
        return ensure_variant(session, issue, topic_key, runtime.settings, runtime.clock.now())

    return render


def build_draft(
    runtime: Runtime, transport_factory: Callable[[], Transport] | None = None
) -> tuple[BuildResult, str]:
    """compose → review: build this week's draft; a new one is announced to the editors.

    Returns the build and what became of the announcement ("" when there was none).
    """
    settings = runtime.settings
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        result = build_issue(session, settings, now)
    if not result.created:
        return result, ""
    with runtime.sessions() as session:
        issue = session.get(
            Issue, result.issue_id, options=[selectinload(Issue.posts).joinedload(IssuePost.post)]
        )
        assert issue is not None
        told = tell_editors(
            session,
            settings,
            transport_factory or (lambda: transport_from_settings(settings)),
            "draft_ready",
            issue,
            now,
            titles=[entry.post.title for entry in issue.posts if not entry.excluded],
            slot=local(send_slot(issue, settings), settings),
            auto_send=settings.digest.auto_send,
        )
    return result, told
