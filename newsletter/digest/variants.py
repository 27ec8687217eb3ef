"""Stored variants: an issue rendered once per distinct topic set, read back at send time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.digest.clicklinks import BookedLink, ClickLinks, LinkBook
from newsletter.digest.compose import QUIET, Layout, Period, Story, TopicRef, lay_out
from newsletter.digest.render import Edition, PlacedBlock, Rendered, Renderer
from newsletter.digest.special import Cta, reaches, split_key
from newsletter.issue_kinds import DIGESTS, cadence_of
from newsletter.models import Issue, IssueKind, IssueLink, IssuePost, IssueVariant, Post
from subscribers.audience import topic_sets

ALL_TOPICS = ""
WEEKLY = IssueKind.WEEKLY.value


def story_from_post(post: Post, entry: IssuePost | None = None) -> Story:
    """The post as a story; with its issue `entry`, the issue's overrides win where set."""
    title = entry.title_override if entry is not None else None
    teaser = entry.teaser_override if entry is not None else None
    image_url = entry.image_url_override if entry is not None else None
    image_alt = entry.image_alt_override if entry is not None else None
    return Story(
        id=post.id,
        url=post.url,
        title=title or post.title,
        teaser=teaser if teaser is not None else post.teaser,
        published_at=post.published_at,
        first_seen_at=post.first_seen_at,
        author=post.author_name,
        image_url=image_url or post.image_url,
        # The post's description fits the post's picture only.
        image_alt=image_alt if image_alt is not None or image_url else post.image_alt,
        topics=tuple(TopicRef(topic.slug, topic.name) for topic in post.topics),
        announced=post.announced,
        everyone=post.added_by is not None and not post.topics,
    )


def edition_of(issue: Issue) -> Edition:
    cta = (
        Cta(issue.cta_label, issue.cta_url)
        if issue.kind != WEEKLY and issue.cta_label and issue.cta_url
        else None
    )
    return Edition(
        key=issue.key,
        period=Period(issue.period_start, issue.period_end, issue.key),
        subject=issue.subject,
        preheader=issue.preheader,
        intro_markdown=issue.intro_markdown,
        donate=issue.donate_enabled,
        blocks=tuple(
            PlacedBlock(row.after_story, row.block.kind, row.block.name, row.block.body_markdown)
            for row in issue.blocks
        ),
        order=tuple(entry.post_id for entry in issue.posts if not entry.excluded),
        kind=issue.kind,
        body_markdown=issue.body_markdown if issue.kind != WEEKLY else "",
        cta=cta,
    )


def issue_stories(issue: Issue) -> tuple[list[Story], int | None]:
    """The included stories in the issue's order, and the featured one's id."""
    included = [entry for entry in issue.posts if not entry.excluded]
    featured = next((entry.post_id for entry in included if entry.featured), None)
    return [story_from_post(entry.post, entry) for entry in included], featured


def layout_for(issue: Issue, key: str, cap: int) -> Layout | None:
    """The variant's layout (empty for a quiet issue); None when nothing in it is theirs.

    `key` is a topic key, maybe with the stories its readers had today in another issue
    (special.without): those are left out, and a reader left with none is skipped.
    """
    stories, featured = issue_stories(issue)
    topic_key, had = split_key(key, [story.id for story in stories])
    mine = [story for story in stories if story.id not in had]
    if issue.kind not in DIGESTS:
        # A special issue goes to its audience whole: its story, or an appeal's words.
        if not reaches(issue.audience, topic_key) or (stories and not mine):
            return None
        return Layout(featured=mine[0] if mine else None, stories=tuple(mine[1:cap]), more=0)
    if not stories:
        # Only the weekly digest has quiet weeks; a daily or story issue is built with news.
        return QUIET if issue.kind == WEEKLY else None
    if not mine:
        return None
    return lay_out(mine, featured if featured not in had else None, topic_key, cap)


def render_variant(
    issue: Issue, topic_key: str, settings: Settings, renderer: Renderer | None = None
) -> Rendered | None:
    """Render one variant; None when none of the issue's posts carries the reader's topics."""
    layout = layout_for(issue, topic_key, settings.digest.max_posts)
    if layout is None:
        return None
    renderer = renderer or Renderer(settings)
    return renderer.render(edition_of(issue), layout)


def web_version(issue: Issue, settings: Settings, renderer: Renderer | None = None) -> str:
    """The archive's page: the all-topics variant without any personal link."""
    layout = layout_for(issue, ALL_TOPICS, settings.digest.max_posts) or QUIET
    renderer = renderer or Renderer(settings)
    return renderer.render(edition_of(issue), layout, personal=False).html


def audience_keys(session: Session, now: datetime, kind: str = WEEKLY) -> set[str]:
    """Every topic key with eligible subscribers for an issue of `kind`, plus "" (previews,
    the archive, everyone)."""
    return {ALL_TOPICS, *topic_sets(session, now, cadence_of(kind))}


def render_variants(
    session: Session,
    issue: Issue,
    settings: Settings,
    now: datetime,
    topic_keys: Iterable[str],
    click_key: str | None = None,
) -> list[IssueVariant]:
    """Replace the issue's stored variants with fresh ones, one per topic key that has posts.

    With `click_key` (the signing key) their story, donate and archive links go through /r/.
    """
    renderer = Renderer(settings)
    issue.variants.clear()
    session.flush()
    book = link_book(session, issue.id)
    for key in sorted(set(topic_keys) | {ALL_TOPICS}):
        _store_variant(session, issue, key, settings, now, renderer, book, click_key)
    _store_links(session, issue.id, book)
    session.flush()
    return list(issue.variants)


def rerender(
    session: Session, issue: Issue, settings: Settings, now: datetime, click_key: str | None
) -> list[IssueVariant]:
    """After an edit: the issue's rows read again, its variants rendered for today's readers."""
    session.flush()
    session.expire(issue, ["posts", "blocks"])
    keys = audience_keys(session, now, issue.kind)
    return render_variants(session, issue, settings, now, keys, click_key)


def ensure_variant(
    session: Session,
    issue: Issue,
    topic_key: str,
    settings: Settings,
    now: datetime,
    click_key: str | None = None,
) -> IssueVariant | None:
    """The stored variant for `topic_key`, rendering it now if a new topic set appeared since.

    None means the issue has nothing for these readers: the send skips them.
    """
    existing = session.scalar(
        select(IssueVariant).where(
            IssueVariant.issue_id == issue.id, IssueVariant.topic_key == topic_key
        )
    )
    if existing is not None:
        return existing
    book = link_book(session, issue.id)
    variant = _store_variant(
        session, issue, topic_key, settings, now, Renderer(settings), book, click_key
    )
    _store_links(session, issue.id, book)
    session.flush()
    return variant


def link_book(session: Session, issue_id: int) -> LinkBook:
    rows = session.scalars(select(IssueLink).where(IssueLink.issue_id == issue_id))
    return LinkBook([BookedLink(row.position, row.kind, row.url, row.post_id) for row in rows])


def _store_links(session: Session, issue_id: int, book: LinkBook) -> None:
    session.add_all(
        IssueLink(
            issue_id=issue_id,
            position=link.position,
            kind=link.kind,
            url=link.url,
            post_id=link.post_id,
        )
        for link in book.added
    )
    book.added.clear()


def _store_variant(
    session: Session,
    issue: Issue,
    topic_key: str,
    settings: Settings,
    now: datetime,
    renderer: Renderer,
    book: LinkBook,
    click_key: str | None,
) -> IssueVariant | None:
    layout = layout_for(issue, topic_key, settings.digest.max_posts)
    if layout is None:
        return None
    variant = IssueVariant(
        topic_key=topic_key,
        subject="",
        html="",
        text="",
        rendered_at=now,
        post_ids=",".join(map(str, layout.shown)),
    )
    issue.variants.append(variant)
    clicks = None
    if click_key is not None:
        session.flush()  # the variant's id goes into its tokens
        clicks = ClickLinks(
            settings.site.base_url,
            click_key,
            issue.id,
            variant.id,
            book,
            personal=settings.analytics.per_subscriber,
        )
    rendered = renderer.render(edition_of(issue), layout, clicks=clicks)
    variant.subject, variant.html, variant.text = rendered.subject, rendered.html, rendered.text
    return variant
