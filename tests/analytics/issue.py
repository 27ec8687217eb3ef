"""A built issue whose links go through /r/, and the links its stored email carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from newsletter.digest.build import build_issue
from newsletter.models import IssueStatus, IssueVariant
from newsletter.runtime import Runtime
from tests.analytics.delivered import tracked_links
from tests.factories import add_post, add_topics


@dataclass(frozen=True)
class Mailed:
    issue_id: int
    html: str
    text: str
    # kind → the /r/ links of that kind, in the order the email shows them (stories by post)
    links: dict[str, list[str]]
    targets: dict[str, str]  # /r/ link → the stored target


def mailed_issue(runtime: Runtime, stories: int = 3) -> Mailed:
    """Stories published a day before the clock, built into a sent issue with tracked links."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, now)
        for number in range(stories):
            add_post(session, f"story-{number}", now - timedelta(days=1, hours=number))
        result = build_issue(
            session, runtime.settings, now, topic_keys=[""], click_key=runtime.signing_key
        )
        assert result.issue_id is not None
        variant = session.scalars(
            select(IssueVariant).where(IssueVariant.issue_id == result.issue_id)
        ).one()
        variant.issue.status = IssueStatus.SENT
        variant.issue.sent_at = now
        html, text = variant.html, variant.text
    links: dict[str, list[str]] = {}
    targets: dict[str, str] = {}
    for href, link in tracked_links(runtime, result.issue_id, html).items():
        links.setdefault(link.kind, []).append(href)
        targets[href] = link.url
    return Mailed(result.issue_id, html, text, links, targets)
