"""Read posts, topics and sent issues from the database into Channels ready to render."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.config import Settings
from newsletter.models import Issue, IssueStatus, Post, Topic, post_topics
from newsletter.publish import text
from newsletter.publish.model import Category, Channel, Entry, Format, feed_path

SITE, ARCHIVE = "", "/archive"


def topic_folder(slug: str) -> str:
    return f"/topics/{slug}"


def tag_uri(settings: Settings, minted: datetime, specific: str) -> str:
    """A permanent id (RFC 4151): the site's host, the day the thing was first seen, its key."""
    host = urlsplit(settings.site.base_url).hostname or "localhost"
    return f"tag:{host},{minted.date().isoformat()}:{specific}"


def entry_id(post: Post, settings: Settings) -> str:
    """The post's feed id: minted the first time it is published, then kept on the post.

    Minted from the site's address of that day, the day the post was first seen and its
    database id; stored, it survives edits and a move of the site to another address.
    """
    if post.entry_id is None:
        post.entry_id = tag_uri(settings, post.first_seen_at, f"posts/{post.id}")
    return post.entry_id


def post_entry(post: Post, settings: Settings) -> Entry:
    """The post as a feed entry; mints its id if it has none yet (the caller commits)."""
    # Stored text is what a reader sees ("<b>" in a title is two words' worth of characters,
    # not markup): made XML-safe and kept on one line, never stripped or decoded again.
    title = text.line(post.title) or text.line(post.url)
    return Entry(
        id=entry_id(post, settings),
        title=title,
        link=post.url,
        summary=text.summary(post.teaser or ""),
        published=post.published_at,
        updated=max(post.updated_at, post.published_at),
        content_html=(text.safe_html(post.body_html) or None) if post.body_html else None,
        author=(text.line(post.author_name) or None) if post.author_name else None,
        categories=tuple(Category(t.slug, text.line(t.name)) for t in post.topics),
        image_url=text.xml_safe(post.image_url) if post.image_url else None,
        image_alt=text.line(post.image_alt) if post.image_alt else None,
    )


def _post_entries(posts: list[Post], settings: Settings, built: dict[int, Entry]) -> list[Entry]:
    """Each post's entry, made once per build however many feeds carry it (sanitising is slow)."""
    for post in posts:
        if post.id not in built:
            built[post.id] = post_entry(post, settings)
    return [built[post.id] for post in posts]


def issue_entry(issue: Issue, settings: Settings) -> Entry:
    sent = issue.sent_at or issue.period_end
    title = text.line(issue.subject) or f"{settings.site.name}: {issue.key}"
    return Entry(
        id=tag_uri(settings, issue.created_at, f"issues/{issue.id}"),
        title=title,
        link=f"{settings.site.base_url}/archive/{issue.key}",
        summary=text.summary(issue.preheader or issue.intro_markdown),
        published=sent,
        updated=sent,
    )


def _channel(
    settings: Settings,
    folder: str,
    title: str,
    link: str,
    description: str,
    entries: list[Entry],
    fallback_updated: datetime,
    formats: tuple[Format, ...] = ("rss", "atom", "json"),
) -> Channel:
    logo = settings.feeds.logo_url or settings.organization.logo_url
    hub = settings.feeds.websub_hub
    base = settings.site.base_url
    return Channel(
        folder=folder,
        title=text.line(title),
        link=link,
        description=text.line(description),
        language=settings.site.language,
        site_url=base,
        publisher=text.line(settings.organization.name),
        # The newest change, not the build time: an unchanged feed keeps its bytes and ETag.
        updated=max((e.updated for e in entries), default=fallback_updated),
        id=f"{base}{folder}/atom.xml",
        logo_url=str(logo) if logo else None,
        hub_url=str(hub) if hub else None,
        formats=formats,
        entries=tuple(entries),
    )


def newest_posts(session: Session, limit: int, topic: Topic | None = None) -> list[Post]:
    # A story an editor added to one issue by hand is that issue's, not the site's.
    query = select(Post).options(selectinload(Post.topics)).where(Post.added_by.is_(None))
    if topic is not None:
        query = query.join(post_topics, post_topics.c.post_id == Post.id).where(
            post_topics.c.topic_id == topic.id
        )
    query = query.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit)
    return list(session.scalars(query))


def site_channel(
    session: Session,
    settings: Settings,
    fallback_updated: datetime,
    entries: dict[int, Entry] | None = None,
) -> Channel:
    """`entries` holds post entries already made in this build, by post id, and gains new ones."""
    posts = newest_posts(session, settings.feeds.entries)
    site = settings.site
    return _channel(
        settings,
        SITE,
        site.name,
        f"{site.base_url}/",
        site.description,
        _post_entries(posts, settings, {} if entries is None else entries),
        fallback_updated,
    )


def topic_channel(
    session: Session,
    settings: Settings,
    topic: Topic,
    fallback_updated: datetime,
    entries: dict[int, Entry] | None = None,
) -> Channel:
    """`entries` as for site_channel."""
    posts = newest_posts(session, settings.feeds.entries, topic)
    site = settings.site
    return _channel(
        settings,
        topic_folder(topic.slug),
        f"{site.name}: {topic.name}",
        f"{site.base_url}{topic_folder(topic.slug)}",
        topic.description or f"{topic.name}, from {site.name}.",
        _post_entries(posts, settings, {} if entries is None else entries),
        fallback_updated,
    )


def archive_channel(session: Session, settings: Settings, fallback_updated: datetime) -> Channel:
    issues = session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.SENT)
        .order_by(Issue.sent_at.desc(), Issue.id.desc())
        .limit(settings.feeds.entries)
    )
    site = settings.site
    return _channel(
        settings,
        ARCHIVE,
        f"{site.name}: newsletter archive",
        f"{site.base_url}/archive",
        f"Every issue of the {site.name} newsletter, as it was sent.",
        [issue_entry(issue, settings) for issue in issues],
        fallback_updated,
        formats=("rss",),
    )


def channels(
    session: Session,
    settings: Settings,
    changed_topics: set[str] | None,
    previous: Mapping[str, datetime],
    now: datetime,
) -> list[Channel]:
    """The site and archive channels, and those of the changed topics (all when None).

    `previous` maps each stored feed path to its Last-Modified, so that an empty feed keeps
    the date it was first built with instead of changing bytes on every rebuild.
    """

    def fallback(folder: str) -> datetime:
        return previous.get(feed_path(folder, "rss"), now)

    # A post is in the site feed and in each of its topics' feeds: one entry serves them all.
    entries: dict[int, Entry] = {}
    built = [
        site_channel(session, settings, fallback(SITE), entries),
        archive_channel(session, settings, fallback(ARCHIVE)),
    ]
    query = select(Topic).order_by(Topic.slug)
    if changed_topics is not None:
        query = query.where(Topic.slug.in_(sorted(changed_topics)))
    for topic in session.scalars(query):
        folder = topic_folder(topic.slug)
        built.append(topic_channel(session, settings, topic, fallback(folder), entries))
    return built
