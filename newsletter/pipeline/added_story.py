"""collect → review: a story added to a draft by its address, stored as the issue's own post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.article import checked_url, read_article
from newsletter.collect.fetch import Fetcher
from newsletter.collect.item import Normalised
from newsletter.digest.variants import rerender
from newsletter.editors import review
from newsletter.errors import DigestError, FetchError
from newsletter.models import Issue, IssuePost, Post
from newsletter.runtime import Runtime


@dataclass(frozen=True)
class Added:
    post_id: int
    title: str
    already: bool  # the story was in the issue already: nothing changed


def add_story(
    runtime: Runtime, issue_id: int, typed_url: str, editor: str, fetcher: Fetcher | None = None
) -> Added:
    """Add the story at `typed_url` to the issue, reading the page unless the post is stored.

    CollectError: the address is bad or the page cannot be read; ReviewError: the issue is no
    longer editable; DigestError: no such issue. Nothing is stored on any of them.
    """
    url = checked_url(typed_url)
    with runtime.sessions() as session:
        _editable(session, issue_id)
        known = session.scalar(select(Post.id).where(Post.url == url))
    # The page is read outside any transaction: a slow site holds no database lock.
    read = None
    if known is None:
        read = read_article(runtime.settings, url, runtime.clock.now(), fetcher)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        issue = _editable(session, issue_id)
        post = _stored(session, url, read, editor, now)
        entry = next((e for e in issue.posts if e.post_id == post.id), None)
        if entry is not None:
            return Added(post.id, post.title, already=True)
        review.reopen_after_edit(issue, now)
        issue.posts.append(IssuePost(post_id=post.id, position=len(issue.posts)))
        rerender(session, issue, runtime.settings, now, runtime.signing_key)
        return Added(post.id, post.title, already=False)


def _editable(session: Session, issue_id: int) -> Issue:
    issue = session.get(Issue, issue_id)
    if issue is None:
        raise DigestError(f"issue {issue_id} does not exist")
    if not review.editable(issue):
        review.reopen_after_edit(issue, issue.updated_at)  # raises the ReviewError that says why
    return issue


def _stored(
    session: Session, url: str, read: Normalised | None, editor: str, now: datetime
) -> Post:
    """The post at `url` or at the page's own address, else a new one marked as added by hand."""
    urls = {url} | ({read.url} if read is not None else set())
    post = session.scalar(select(Post).where(Post.url.in_(urls)).limit(1))
    if post is not None:
        return post
    if read is None:  # stored when first looked for, gone since
        raise FetchError(f"{url}: the stored story went away meanwhile; add it again")
    post = Post(
        source_id=None,
        url=read.url,
        guid=read.guid,
        content_hash=read.content_hash,
        title=read.title,
        teaser=read.teaser,
        body_html=read.body_html,
        author_name=read.author_name,
        author_role=read.author_role,
        image_url=read.image_url,
        image_alt=read.image_alt,
        published_at=read.published_at,
        updated_at=read.updated_at or read.published_at,
        first_seen_at=now,
        announced=False,
        added_by=editor,
    )
    session.add(post)
    session.flush()
    return post
