"""The service's tables: sources, posts, topics, issues (digests) and deliveries."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.db import Base, string_enum

post_topics = Table(
    "post_topics",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Set by the admin: `newsletter init` then leaves the topic as the editor left it.
    edited_by: Mapped[str | None] = mapped_column(String(320))
    edited_at: Mapped[datetime | None]


class Source(Base):
    """Where posts come from, with what the collector remembers between runs."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2000))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Conditional requests: a 304 costs nothing.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # WordPress asks only for what changed since this instant.
    modified_after: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    # The last run's counts, as `newsletter collect` printed them.
    last_summary: Mapped[str | None] = mapped_column(String(300))
    # Read completely, but not cleanly (HTML entities in XML, say): shown, not counted as an error.
    last_warning: Mapped[str | None] = mapped_column(Text)
    last_warning_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The rest of its configuration (see SourceSettings): the collector reads it from here.
    topics: Mapped[list[str] | None] = mapped_column(JSON)
    selectors: Mapped[dict[str, str] | None] = mapped_column(JSON)
    max_pages: Mapped[int | None] = mapped_column(Integer)
    api_key_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set by the admin: `newsletter init` then leaves the source as the editor left it, and
    # its host is no longer the operator's choice (the collector's guard checks it).
    edited_by: Mapped[str | None] = mapped_column(String(320))
    edited_at: Mapped[datetime | None]
    # Runs that failed since the last that did not; and the trouble the editors were last told
    # of (None: none, or they were told it is over), so that each alert goes out once.
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    alert: Mapped[str | None] = mapped_column(String(500))
    # Every run and every failed one, ever: /metrics serves them as counters.
    runs_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    errors_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    posts: Mapped[list[Post]] = relationship(back_populates="source")


class Post(Base):
    """One story, however many sources carry it."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_published_at", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    # Dedup keys, in the order they are tried: canonical URL, guid, content hash.
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    guid: Mapped[str | None] = mapped_column(String(2000), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The feeds' entry id, minted once from the site's address of the day and kept, so that a
    # domain move does not make every story new in every reader; NULL until first published.
    entry_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    title: Mapped[str] = mapped_column(Text)
    teaser: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(String(300))
    author_role: Mapped[str | None] = mapped_column(String(300))
    image_url: Mapped[str | None] = mapped_column(String(2000))
    image_alt: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When we first saw it: edits move updated_at, never this.
    first_seen_at: Mapped[datetime]
    # Backfilled history is stored as already announced so it never floods a digest.
    announced: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who added it to an issue by its address (None: collected from a source). Such a post is
    # the issue's alone: never in the site's pages or feeds, never composed into a draft.
    added_by: Mapped[str | None] = mapped_column(String(320))

    source: Mapped[Source | None] = relationship(back_populates="posts")
    topics: Mapped[list[Topic]] = relationship(secondary=post_topics, order_by=Topic.slug)


class PostSource(Base):
    """That a source carries a post, and the version of it that source last gave."""

    __tablename__ = "post_sources"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    # Hash of everything this source said about the post: a change means an edit, while two
    # sources telling the same story slightly differently do not keep overwriting each other.
    version_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class CollectSkip(Base):
    """An entry or a whole source left out of a run, and why (shown by `newsletter sources`)."""

    __tablename__ = "collect_skips"
    __table_args__ = (Index("ix_collect_skips_source_at", "source_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    ref: Mapped[str] = mapped_column(String(2000), default="")
    reason: Mapped[str] = mapped_column(Text)


class IssueStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class IssueKind(enum.StrEnum):
    WEEKLY = "weekly"
    BREAKING = "breaking"  # one collected post, sent on its own
    APPEAL = "appeal"  # written in the admin: a Markdown body and a call to action
    DAILY = "daily"  # the day's stories for readers who chose a daily digest
    STORY = "story"  # a story (or a few close together) for readers who chose each story


class Issue(Base):
    """One digest: a week's posts, the editor's words, and where it stands.

    A special issue (kind breaking or appeal) goes through the same review and send; its
    key is its own ("2026-11-30-breaking"), and `audience` names the topics it is for.
    """

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. "2026-W48"
    status: Mapped[IssueStatus] = mapped_column(
        string_enum(IssueStatus, "status"), default=IssueStatus.DRAFT
    )
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    subject: Mapped[str] = mapped_column(String(500), default="")
    preheader: Mapped[str] = mapped_column(String(500), default="")
    intro_markdown: Mapped[str] = mapped_column(Text, default="")
    donate_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The editor's featured post; unset, the newest post with an image is featured.
    featured_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL")
    )
    send_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(320))
    sending_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    # When the scheduler held the issue at its send time and told the editors (once).
    held_at: Mapped[datetime | None]
    # When the editors were told it paused; a later pause (updated_at moves on) is told again.
    pause_told_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20), default=IssueKind.WEEKLY, server_default="weekly")
    # A special issue's readers: a topic key (sorted slugs joined by ","), "" for everyone.
    audience: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    # An appeal's words (Markdown, sanitised when rendered) and its button.
    body_markdown: Mapped[str] = mapped_column(Text, default="", server_default="")
    cta_label: Mapped[str | None] = mapped_column(String(100))
    cta_url: Mapped[str | None] = mapped_column(String(2000))
    # The editor asked that a special issue's story leave the weekly digest (once approved).
    leave_out_of_weekly: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    posts: Mapped[list[IssuePost]] = relationship(
        back_populates="issue", order_by="IssuePost.position", cascade="all, delete-orphan"
    )
    blocks: Mapped[list[IssueBlock]] = relationship(
        cascade="all, delete-orphan", order_by="IssueBlock.position"
    )
    variants: Mapped[list[IssueVariant]] = relationship(
        back_populates="issue", cascade="all, delete-orphan"
    )


class IssuePost(Base):
    """A post's place in an issue: its order, whether it is featured or left out."""

    __tablename__ = "issue_posts"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    # This issue's own words and picture for the story (NULL: the post's); the post and its
    # feeds never change, and clearing them returns the story to the post.
    title_override: Mapped[str | None] = mapped_column(String(500))
    teaser_override: Mapped[str | None] = mapped_column(Text)
    image_url_override: Mapped[str | None] = mapped_column(String(2000))
    image_alt_override: Mapped[str | None] = mapped_column(String(500))

    issue: Mapped[Issue] = relationship(back_populates="posts")
    post: Mapped[Post] = relationship()


class IssueVariant(Base):
    """An issue rendered once for one set of topics; personal parts are placeholders."""

    __tablename__ = "issue_variants"
    __table_args__ = (UniqueConstraint("issue_id", "topic_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # Sorted topic slugs joined by ",", or "" for subscribers who follow everything.
    topic_key: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(String(500))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    rendered_at: Mapped[datetime]
    # The stories this copy shows, as post ids joined by ",": what a reader it goes to receives
    # (newsletter.deliver.receipts). None for a copy rendered before the receipts ledger.
    post_ids: Mapped[str | None] = mapped_column(Text)

    issue: Mapped[Issue] = relationship(back_populates="variants")


class IssueLink(Base):
    """A link an issue's emails carry through /r/: kept for good, so old emails keep working."""

    __tablename__ = "issue_links"
    __table_args__ = (UniqueConstraint("issue_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # The number click tokens carry: 0, 1, 2 ... in the order links were first rendered.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # story | donate | archive | trap
    # The target with its UTM parameters, as rendered; never taken from a request.
    url: Mapped[str] = mapped_column(Text)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"


class Delivery(Base):
    """One issue to one subscriber: planned once, sent at most once, outcome recorded."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_deliveries_issue_status", "issue_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_variants.id", ondelete="SET NULL")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus, "status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Which sender holds this row, until when: a worker that dies leaves it to be claimed again
    # once the time is up (newsletter.deliver.claim).
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]


class StoryReceipt(Base):
    """A story a reader has received (or has on its way): the ledger behind "exactly once".

    Written with the delivery that carries it, in the same transaction; one row per reader and
    story, whichever issue or cadence carried it. A delivery that fails gives its rows back.
    """

    __tablename__ = "story_receipts"
    __table_args__ = (Index("ix_story_receipts_issue_subscriber", "issue_id", "subscriber_id"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class FeedDocument(Base):
    """One built feed's bytes, as every web process serves them and static export writes them."""

    __tablename__ = "feed_documents"

    path: Mapped[str] = mapped_column(
        String(300), primary_key=True
    )  # e.g. "/topics/asylum/feed.xml"
    media_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(100))
    # When these bytes first appeared: a rebuild that changes nothing keeps it.
    last_modified: Mapped[datetime]
    built_at: Mapped[datetime]


class RelayEventSeen(Base):
    """A relay webhook's event, once handled: the provider's retry of it changes nothing."""

    __tablename__ = "relay_events"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    # The provider's event id, or a hash of the event when it gives none (at most 128 chars).
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime]
    # What it did: "hard bounce", ..., or why it changed nothing ("unattributed").
    outcome: Mapped[str] = mapped_column(String(40))


class Block(Base):
    """A reusable piece an editor drops into issues: a sponsor line, an event, a job ad."""

    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # sponsor | event | job
    name: Mapped[str] = mapped_column(String(200), unique=True)
    body_markdown: Mapped[str] = mapped_column(Text)
    edited_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IssueBlock(Base):
    """A block placed in an issue: after how many of the issue's stories, in which order."""

    __tablename__ = "issue_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"))
    # 0: before the first story (after the intro); n: after the issue's n-th included story.
    after_story: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)

    block: Mapped[Block] = relationship(lazy="joined")
