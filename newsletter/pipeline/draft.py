"""compose → review: build this week's draft; a new one is announced to the editors."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import selectinload

from newsletter.digest.build import BuildResult, build_issue
from newsletter.editors.notify import local, tell_editors
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssuePost
from newsletter.pipeline.due import send_slot
from newsletter.runtime import Runtime


def build_draft(
    runtime: Runtime, transport_factory: Callable[[], Transport] | None = None
) -> tuple[BuildResult, str]:
    """compose → review: build this week's draft; a new one is announced to the editors.

    Returns the build and what became of the announcement ("" when there was none).
    """
    settings = runtime.settings
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        result = build_issue(session, settings, now, click_key=runtime.signing_key)
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
            transport_factory or runtime.transport,
            "draft_ready",
            issue,
            now,
            titles=[entry.post.title for entry in issue.posts if not entry.excluded],
            slot=local(send_slot(issue, settings), settings),
            auto_send=settings.digest.auto_send,
        )
    return result, told
