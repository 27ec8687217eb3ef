"""Past issues: /archive lists sent issues, /archive/{issue} shows one without personal links."""

from __future__ import annotations

import lxml.html
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from newsletter.digest.build import SENT_STATES
from newsletter.digest.sent import reader_subject
from newsletter.digest.special import LABELS
from newsletter.digest.text import long_date
from newsletter.digest.variants import ALL_TOPICS, web_version
from newsletter.models import Issue, IssueKind, IssuePost, IssueVariant
from newsletter.publish.channels import ARCHIVE, SITE
from newsletter.publish.model import bare_media_type, feed_path
from newsletter.runtime import Runtime

router = APIRouter()
PER_PAGE = 20
CACHE_SIZE = 64

# Feed discovery on both pages; the archive feed is the publish stage's.
FEEDS = (
    (bare_media_type("rss"), feed_path(SITE, "rss"), "RSS"),
    (bare_media_type("atom"), feed_path(SITE, "atom"), "Atom"),
    (bare_media_type("json"), feed_path(SITE, "json"), "JSON Feed"),
    (bare_media_type("rss"), feed_path(ARCHIVE, "rss"), "Past issues (RSS)"),
)


def feed_links(site_name: str) -> Markup:
    return Markup("\n").join(
        Markup('<link rel="alternate" type="{}" href="{}" title="{}">').format(
            kind, href, f"{site_name}: {label}"
        )
        for kind, href, label in FEEDS
    )


@router.get("/archive", response_class=HTMLResponse)
def archive(request: Request, page: int = Query(1, ge=1, le=100_000)) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    templates: Jinja2Templates = request.app.state.templates
    sent = Issue.status.in_(SENT_STATES)
    with runtime.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Issue).where(sent)) or 0
        rows = session.execute(
            select(Issue.key, Issue.sent_at, Issue.period_end, IssueVariant.subject, Issue.kind)
            .outerjoin(
                IssueVariant,
                (IssueVariant.issue_id == Issue.id) & (IssueVariant.topic_key == ALL_TOPICS),
            )
            .where(sent)
            .order_by(Issue.period_end.desc(), Issue.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE)
        ).all()
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        raise HTTPException(404, f"There is no page {page} of past issues.")
    zone = runtime.settings.zone
    issues = [
        {
            "key": key,
            "subject": subject or key,
            "date": long_date(sent_at or end, zone),
            # Special issues are marked: "Breaking news", "Special issue".
            "special": LABELS.get(kind) if kind != IssueKind.WEEKLY.value else None,
        }
        for key, sent_at, end, subject, kind in rows
    ]
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "web/archive.html",
        {
            "site": runtime.settings.site,
            "issues": issues,
            "page": page,
            "pages": pages,
            "feed_links": feed_links(runtime.settings.site.name),
        },
    )
    return response


@router.get("/archive/{key}", response_class=HTMLResponse)
def archived_issue(request: Request, key: str) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    with runtime.sessions() as session:
        issue = session.scalar(
            select(Issue)
            .where(Issue.key == key, Issue.status.in_(SENT_STATES))
            .options(selectinload(Issue.posts).selectinload(IssuePost.post))
        )
        if issue is None:
            raise HTTPException(404, f"There is no past issue {key!r}.")
        page = _web_page(request, runtime, issue)
    return HTMLResponse(page)


def _web_page(request: Request, runtime: Runtime, issue: Issue) -> str:
    """The issue's web version in the site's layout, rendered once per edit (inlining is slow)."""
    cache: dict[tuple[int, str], str] = request.app.state.__dict__.setdefault("archive_pages", {})
    version = (issue.id, issue.updated_at.isoformat())
    if version not in cache:
        settings = runtime.settings
        topics = sorted(
            {
                topic.name
                for entry in issue.posts
                if not entry.excluded
                for topic in entry.post.topics
            }
        )
        templates: Jinja2Templates = request.app.state.templates
        html = templates.env.get_template("web/issue.html").render(
            {
                "nav": "archive",
                "issue": {
                    "key": issue.key,
                    "subject": reader_subject(issue) or issue.key,
                    "date": long_date(issue.sent_at or issue.period_end, settings.zone),
                    "topics": topics,
                },
                "body": _email_body(web_version(issue, settings)),
                "feed_links": feed_links(settings.site.name),
            }
        )
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        cache[version] = html
    return cache[version]


def _email_body(document: str) -> Markup:
    """What the email shows, without its own <html> and <head>: our rendering, escaped already."""
    root = lxml.html.document_fromstring(document)
    body = root.find("body")
    parts = [
        lxml.html.tostring(child, encoding="unicode")
        for child in (body if body is not None else [])
    ]
    # Safe: the digest templates escaped every stored value, and nh3 cleaned stored HTML.
    return Markup("".join(parts))  # noqa: S704
