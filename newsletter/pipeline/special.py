"""compose → review for special issues: breaking news from one post, an appeal written by hand.

A special issue is an Issue of another kind: it is previewed, tested, approved and sent as the
weekly one is (review, send, archive, reports); only what it carries and who it reaches differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from newsletter.collect.normalize import canonical_url
from newsletter.digest import special
from newsletter.digest.variants import audience_keys, render_variants
from newsletter.editors import review
from newsletter.errors import CollectError, DigestError
from newsletter.models import Issue, IssuePost, IssueStatus, Post, Topic
from newsletter.runtime import Runtime
from subscribers.audience import topic_key

SEARCH_LIMIT = 200  # characters of a title search
RECENT = 20  # posts the picker lists


@dataclass(frozen=True)
class SpecialDraft:
    """What an editor (or the CLI) asked for; checked by `create` and `update`."""

    kind: str
    topics: tuple[str, ...] = ()  # the audience's topic slugs; none: everyone
    subject: str = ""
    post_id: int | None = None  # breaking news: the post, by id (admin) ...
    post_url: str = ""  # ... or by its address (CLI)
    intro_markdown: str = ""
    body_markdown: str = ""  # an appeal's words
    cta_label: str = ""
    cta_url: str = ""
    donate: bool = True
    leave_out_of_weekly: bool = False


@dataclass(frozen=True)
class Created:
    issue_id: int
    key: str


@dataclass(frozen=True)
class PostChoice:
    id: int
    title: str
    url: str
    published_at: str
    topics: tuple[str, ...] = field(default_factory=tuple)


def create(runtime: Runtime, draft: SpecialDraft) -> Created:
    """A new special issue draft, rendered for every topic set; DigestError says what is wrong."""
    now = runtime.clock.now()
    settings = runtime.settings
    if draft.kind not in special.KINDS:
        raise DigestError(f"a special issue is {' or '.join(special.KINDS)}, not {draft.kind!r}")
    with runtime.sessions.begin() as session:
        taken = session.scalars(select(Issue.key).where(Issue.key.like(f"%-{draft.kind}%")))
        key = special.special_key(draft.kind, now, settings.zone, taken)
        issue = Issue(
            key=key,
            kind=draft.kind,
            status=IssueStatus.DRAFT,
            period_start=now,
            period_end=now,
            created_at=now,
            updated_at=now,
        )
        _write(session, issue, draft, runtime)
        session.add(issue)
        session.flush()
        if draft.kind == special.BREAKING:
            post = _post(session, draft, settings.site.base_url)
            issue.posts.append(IssuePost(post_id=post.id, position=0, featured=True))
            issue.featured_post_id = post.id
            session.flush()
            session.refresh(issue, ["posts"])
        _render(session, issue, runtime)
        return Created(issue.id, issue.key)


def update(runtime: Runtime, issue_id: int, draft: SpecialDraft) -> str:
    """Change a special draft's audience, words and button; an approved one returns to draft."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        issue = session.get(
            Issue, issue_id, options=[selectinload(Issue.posts), selectinload(Issue.variants)]
        )
        if issue is None or issue.kind not in special.KINDS:
            raise DigestError(f"no special issue {issue_id}")
        review.reopen_after_edit(issue, now)
        _write(session, issue, replace(draft, kind=issue.kind), runtime)
        _render(session, issue, runtime)
        return issue.key


def _write(session: Session, issue: Issue, draft: SpecialDraft, runtime: Runtime) -> None:
    issue.audience = topic_key(_known_topics(session, draft.topics))
    issue.subject = special.check_subject(draft.subject)
    issue.intro_markdown = _bounded(draft.intro_markdown)
    issue.donate_enabled = draft.donate
    issue.leave_out_of_weekly = draft.leave_out_of_weekly and draft.kind == special.BREAKING
    cta = special.check_cta(draft.cta_label, draft.cta_url)
    issue.cta_label, issue.cta_url = (cta.label, cta.url) if cta else (None, None)
    if draft.kind == special.APPEAL:
        issue.body_markdown = special.check_body(draft.body_markdown)
        if not issue.subject:
            raise DigestError("an appeal needs a subject")
    issue.updated_at = runtime.clock.now()


def _bounded(markdown: str) -> str:
    if len(markdown) > special.BODY_LIMIT:
        raise DigestError(f"the intro holds at most {special.BODY_LIMIT:,} characters")
    return markdown


def _render(session: Session, issue: Issue, runtime: Runtime) -> None:
    now = runtime.clock.now()
    keys = audience_keys(session, now, issue.kind)
    render_variants(session, issue, runtime.settings, now, keys, click_key=runtime.signing_key)


def _known_topics(session: Session, slugs: tuple[str, ...]) -> list[str]:
    wanted = {slug.strip() for slug in slugs if slug.strip()}
    known = set(session.scalars(select(Topic.slug)))
    unknown = sorted(wanted - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise DigestError(f"no topic {unknown[0][:100]!r}; the topics are: {listed}")
    return sorted(wanted)


def _post(session: Session, draft: SpecialDraft, base_url: str) -> Post:
    if draft.post_id is not None:
        post = session.get(Post, draft.post_id)
        if post is None:
            raise DigestError("that post is not among the collected posts")
        return post
    if not draft.post_url.strip():
        raise DigestError("breaking news needs a post: choose one")
    try:
        url = canonical_url(draft.post_url.strip(), base_url)
    except CollectError as exc:
        raise DigestError(str(exc)) from None
    post = session.scalar(select(Post).where(Post.url.in_({url, draft.post_url.strip()})))
    if post is None:
        raise DigestError(
            f"no collected post has the address {url[:300]}; collect it first (newsletter "
            "collect), or check the address"
        )
    return post


def recent_posts(runtime: Runtime, query: str = "") -> list[PostChoice]:
    """The newest collected posts (of the last 30 days), their titles matching `query`."""
    now = runtime.clock.now()
    wanted = " ".join(query.split())[:SEARCH_LIMIT]
    statement = (
        select(Post)
        .options(selectinload(Post.topics))
        .where(Post.published_at >= now - timedelta(days=30))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(RECENT)
    )
    if wanted:
        pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(func.lower(Post.title).like(pattern.lower(), escape="\\"))
    zone = runtime.settings.zone
    with runtime.sessions() as session:
        return [
            PostChoice(
                post.id,
                post.title,
                post.url,
                post.published_at.astimezone(zone).strftime("%d %b %Y, %H:%M"),
                tuple(topic.name for topic in post.topics),
            )
            for post in session.scalars(statement)
        ]
