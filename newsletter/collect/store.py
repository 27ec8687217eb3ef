"""Upsert and dedup: one post per story, matched on canonical URL, then guid, then content hash."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.item import Normalised
from newsletter.models import Post, PostSource, Topic

_CHUNK = 300  # keys per IN (...) query, well under every backend's parameter limit


class Outcome(enum.StrEnum):
    NEW = "new"
    UPDATED = "updated"
    DUPLICATE = "duplicate"


class Store:
    """Stores one source's posts in one session, finding existing ones in bulk first."""

    def __init__(
        self,
        session: Session,
        source_id: int,
        now: datetime,
        announce_cutoff: datetime,
    ) -> None:
        self.session = session
        self.source_id = source_id
        self.now = now
        self.cutoff = announce_cutoff
        self.topics = {topic.slug: topic for topic in session.scalars(select(Topic))}
        self._by_url: dict[str, Post] = {}
        self._by_guid: dict[str, Post] = {}
        self._by_hash: dict[str, Post] = {}
        self._links: dict[int, PostSource] = {}
        # Posts already handled in this read, by object: new ones have no id until finish().
        self._touched: set[int] = set()
        self._created: list[tuple[Post, Normalised]] = []
        self.changed_topics: set[str] = set()

    def preload(self, posts: Sequence[Normalised]) -> None:
        """One round of queries for a whole batch instead of three per post."""
        urls = [post.url for post in posts]
        guids = [post.guid for post in posts if post.guid]
        hashes = [post.content_hash for post in posts]
        for column, keys in ((Post.url, urls), (Post.guid, guids), (Post.content_hash, hashes)):
            for chunk in _chunks(sorted(set(keys))):
                for found in self.session.scalars(select(Post).where(column.in_(chunk))):
                    self._remember(found)
        ids = [post.id for post in self._by_url.values()]
        for chunk in _chunks(ids):
            links = select(PostSource).where(
                PostSource.source_id == self.source_id, PostSource.post_id.in_(chunk)
            )
            for link in self.session.scalars(links):
                self._links[link.post_id] = link

    def put(self, post: Normalised) -> tuple[Outcome, Post]:
        existing = self.find(post)
        if existing is None:
            return Outcome.NEW, self._create(post)
        if id(existing) in self._touched:
            return Outcome.DUPLICATE, existing  # listed twice in one read
        self._touched.add(id(existing))
        link = self._links.get(existing.id)
        if link is None:
            # Another source already holds this story: add what it lacks, overwrite nothing.
            self._link(existing, post)
            _fill_gaps(existing, post)
            self._add_topics(existing, post.topics)
            return Outcome.DUPLICATE, existing
        link.last_seen_at = self.now
        if link.version_hash == post.version_hash:
            return Outcome.DUPLICATE, existing
        link.version_hash = post.version_hash
        self._update(existing, post)
        return Outcome.UPDATED, existing

    def find(self, post: Normalised) -> Post | None:
        """The stored story this post is, by URL, then guid, then content hash (after preload)."""
        found = self._by_url.get(post.url)
        if found is None and post.guid:
            found = self._by_guid.get(post.guid)
        return found if found is not None else self._by_hash.get(post.content_hash)

    def _create(self, post: Normalised) -> Post:
        # Backfill: history older than the cutoff is stored as already announced.
        announced = post.dated and post.published_at < self.cutoff
        created = Post(
            source_id=self.source_id,
            url=post.url,
            guid=post.guid,
            content_hash=post.content_hash,
            title=post.title,
            teaser=post.teaser,
            body_html=post.body_html,
            author_name=post.author_name,
            author_role=post.author_role,
            image_url=post.image_url,
            image_alt=post.image_alt,
            published_at=post.published_at,
            updated_at=max(post.updated_at or post.published_at, post.published_at),
            first_seen_at=self.now,
            announced=announced,
            topics=self._topics(post.topics),
        )
        self.session.add(created)
        self._remember(created)
        self._touched.add(id(created))
        self._created.append((created, post))
        self.changed_topics.update(post.topics)
        return created

    def finish(self) -> None:
        """Insert the new posts in one batch, then link them to the source."""
        self.session.flush()
        for created, post in self._created:
            self._link(created, post)
        self._created.clear()
        self.session.flush()

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

    def _remember(self, post: Post) -> None:
        self._by_url[post.url] = post
        if post.guid:
            self._by_guid.setdefault(post.guid, post)
        self._by_hash.setdefault(post.content_hash, post)

    def _add_topics(self, stored: Post, slugs: Iterable[str]) -> None:
        have = {topic.slug for topic in stored.topics}
        extra = set(slugs) - have
        if extra & self.topics.keys():
            stored.topics = self._topics(sorted(have | extra))
            self.changed_topics.update(have | extra)

    def _topics(self, slugs: Iterable[str]) -> list[Topic]:
        return [self.topics[slug] for slug in slugs if slug in self.topics]


def _fill_gaps(existing: Post, post: Normalised) -> None:
    existing.body_html = existing.body_html or post.body_html
    existing.author_name = existing.author_name or post.author_name
    existing.author_role = existing.author_role or post.author_role
    existing.image_url = existing.image_url or post.image_url
    existing.image_alt = existing.image_alt or post.image_alt
    existing.guid = existing.guid or post.guid


def _chunks(keys: Sequence[object]) -> Iterable[list[object]]:
    for start in range(0, len(keys), _CHUNK):
        yield list(keys[start : start + _CHUNK])
