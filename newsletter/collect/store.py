"""Upsert and dedup: one post per story, matched on canonical URL, then guid, then content hash."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from newsletter.bulk import BulkInsert, chunks, table_of
from newsletter.collect.item import Normalised
from newsletter.models import Post, PostSource, Topic, post_topics

_CHUNK = 300  # keys per IN (...) query, well under every backend's parameter limit


class Outcome(enum.StrEnum):
    NEW = "new"
    UPDATED = "updated"
    DUPLICATE = "duplicate"


@dataclass(eq=False)
class NewPost:
    """A post this read creates: inserted in bulk by finish(), which fills in its id."""

    post: Normalised
    announced: bool
    id: int = 0


Stored = Post | NewPost
_POST_COLUMNS = (
    "source_id",
    "url",
    "guid",
    "content_hash",
    "title",
    "teaser",
    "body_html",
    "author_name",
    "author_role",
    "image_url",
    "image_alt",
    "published_at",
    "updated_at",
    "first_seen_at",
    "announced",
)
_LINK_COLUMNS = ("post_id", "source_id", "version_hash", "first_seen_at", "last_seen_at")
_IDS = select(Post.url, Post.id).where(Post.url.in_(bindparam("urls", expanding=True)))


def topics_by_slug(session: Session) -> dict[str, Topic]:
    """The site's topics, read once per source for both normalising and storing its posts."""
    return {topic.slug: topic for topic in session.scalars(select(Topic))}


class Store:
    """Stores one source's posts in one session, finding existing ones in bulk first."""

    def __init__(
        self,
        session: Session,
        source_id: int,
        now: datetime,
        announce_cutoff: datetime,
        topics: Mapping[str, Topic],
    ) -> None:
        self.session = session
        self.source_id = source_id
        self.now = now
        self.cutoff = announce_cutoff
        self.topics = topics
        self._by_url: dict[str, Stored] = {}
        self._by_guid: dict[str, Stored] = {}
        self._by_hash: dict[str, Stored] = {}
        self._links: dict[int, PostSource] = {}
        # Stored posts already handled in this read, by object.
        self._touched: set[int] = set()
        self._created: list[NewPost] = []
        self.changed_topics: set[str] = set()

    def preload(self, posts: Sequence[Normalised]) -> None:
        """One round of queries for a whole batch instead of three per post."""
        urls = [post.url for post in posts]
        guids = [post.guid for post in posts if post.guid]
        hashes = [post.content_hash for post in posts]
        for column, keys in ((Post.url, urls), (Post.guid, guids), (Post.content_hash, hashes)):
            for chunk in chunks(sorted(set(keys)), _CHUNK):
                # Topics come with their posts: a lazy load each would be a query per post.
                query = select(Post).where(column.in_(chunk)).options(selectinload(Post.topics))
                for found in self.session.scalars(query):
                    self._remember(found)
        ids = [post.id for post in self._by_url.values()]
        for some_ids in chunks(ids, _CHUNK):
            links = select(PostSource).where(
                PostSource.source_id == self.source_id, PostSource.post_id.in_(some_ids)
            )
            for link in self.session.scalars(links):
                self._links[link.post_id] = link

    def put(self, post: Normalised) -> tuple[Outcome, Stored]:
        existing = self.find(post)
        if existing is None:
            return Outcome.NEW, self._create(post)
        if isinstance(existing, NewPost) or id(existing) in self._touched:
            return Outcome.DUPLICATE, existing  # listed twice in one read
        self._touched.add(id(existing))
        link = self._links.get(existing.id)
        if link is None:
            # Another source already holds this story: add what it lacks, overwrite nothing.
            self._link(existing, post)
            _fill_gaps(existing, post)
            existing.added_by = None  # added to an issue by hand, now the site's own story
            self._add_topics(existing, post.topics)
            return Outcome.DUPLICATE, existing
        link.last_seen_at = self.now
        if link.version_hash == post.version_hash:
            return Outcome.DUPLICATE, existing
        link.version_hash = post.version_hash
        self._update(existing, post)
        return Outcome.UPDATED, existing

    def find(self, post: Normalised) -> Stored | None:
        """The stored story this post is, by URL, then guid, then content hash (after preload)."""
        found = self._by_url.get(post.url)
        if found is None and post.guid:
            found = self._by_guid.get(post.guid)
        return found if found is not None else self._by_hash.get(post.content_hash)

    def _create(self, post: Normalised) -> NewPost:
        # Backfill: history older than the cutoff is stored as already announced.
        created = NewPost(post, announced=post.dated and post.published_at < self.cutoff)
        self._remember(created)
        self._created.append(created)
        self.changed_topics.update(post.topics)
        return created

    def finish(self) -> None:
        """Write the changes to stored posts, then insert the new ones, their topics and links.

        New posts go in as driver-level multi-row INSERTs: the ORM's unit of work costs more
        per post than everything else the collector does.
        """
        self.session.flush()
        if not self._created:
            return
        connection = self.session.connection()
        posts = BulkInsert(connection, table_of(Post), _POST_COLUMNS)
        seen = posts.convert("first_seen_at", self.now)
        at = posts.convert
        posts.run(
            [
                (
                    self.source_id,
                    new.post.url,
                    new.post.guid,
                    new.post.content_hash,
                    new.post.title,
                    new.post.teaser,
                    new.post.body_html,
                    new.post.author_name,
                    new.post.author_role,
                    new.post.image_url,
                    new.post.image_alt,
                    at("published_at", new.post.published_at),
                    at("updated_at", _first_updated(new.post)),
                    seen,
                    new.announced,
                )
                for new in self._created
            ]
        )
        id_of: dict[str, int] = {}
        urls = [new.post.url for new in self._created]
        for chunk in chunks(urls, _CHUNK):
            id_of.update((url, id_) for url, id_ in self.session.execute(_IDS, {"urls": chunk}))
        for new in self._created:
            new.id = id_of[new.post.url]
        BulkInsert(connection, post_topics, ("post_id", "topic_id")).run(
            [
                (new.id, self.topics[slug].id)
                for new in self._created
                for slug in sorted(set(new.post.topics))
                if slug in self.topics
            ]
        )
        links = BulkInsert(connection, table_of(PostSource), _LINK_COLUMNS)
        stamp = links.convert("first_seen_at", self.now)
        links.run(
            [(new.id, self.source_id, new.post.version_hash, stamp, stamp) for new in self._created]
        )
        self._created.clear()

    def _update(self, existing: Post, post: Normalised) -> None:
        before = {topic.slug for topic in existing.topics}
        existing.title = post.title
        existing.teaser = post.teaser
        existing.content_hash = post.content_hash
        existing.body_html = post.body_html or existing.body_html
        existing.author_name = post.author_name or existing.author_name
        existing.author_role = post.author_role or existing.author_role
        existing.image_url = post.image_url or existing.image_url
        existing.image_alt = post.image_alt or existing.image_alt
        if post.dated:
            existing.published_at = post.published_at
        existing.topics = self._topics(tuple(sorted(before | set(post.topics))))
        # The edit moves updated_at; first_seen_at and announced stay, so it is not "new".
        edited = (
            post.updated_at if post.updated_at and post.updated_at > existing.updated_at else None
        )
        existing.updated_at = edited or self.now
        self.changed_topics.update(before | set(post.topics))

    def _link(self, stored: Post, post: Normalised) -> None:
        link = PostSource(
            post_id=stored.id,
            source_id=self.source_id,
            version_hash=post.version_hash,
            first_seen_at=self.now,
            last_seen_at=self.now,
        )
        self.session.add(link)
        self._links[stored.id] = link

    def _remember(self, post: Stored) -> None:
        keys = post.post if isinstance(post, NewPost) else post
        self._by_url[keys.url] = post
        if keys.guid:
            self._by_guid.setdefault(keys.guid, post)
        self._by_hash.setdefault(keys.content_hash, post)

    def _add_topics(self, stored: Post, slugs: Iterable[str]) -> None:
        have = {topic.slug for topic in stored.topics}
        extra = set(slugs) - have
        if extra & self.topics.keys():
            stored.topics = self._topics(sorted(have | extra))
            self.changed_topics.update(have | extra)

    def _topics(self, slugs: Iterable[str]) -> list[Topic]:
        return [self.topics[slug] for slug in slugs if slug in self.topics]


def _first_updated(post: Normalised) -> datetime:
    return max(post.updated_at or post.published_at, post.published_at)


def _fill_gaps(existing: Post, post: Normalised) -> None:
    existing.body_html = existing.body_html or post.body_html
    existing.author_name = existing.author_name or post.author_name
    existing.author_role = existing.author_role or post.author_role
    existing.image_url = existing.image_url or post.image_url
    existing.image_alt = existing.image_alt or post.image_alt
    existing.guid = existing.guid or post.guid
