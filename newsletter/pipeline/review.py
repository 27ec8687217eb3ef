"""review: an editor's decisions on an issue (approve, take back, cancel, send now, test copies)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.deliver.proof import send_proofs
from newsletter.deliver.setup import mail_setup
from newsletter.digest.placeholders import Template, values_for
from newsletter.digest.variants import render_variant
from newsletter.editors import review
from newsletter.errors import DigestError
from newsletter.models import Issue, IssueVariant
from newsletter.pipeline.lookup import find_issue as find_issue  # the CLI's name for it
from newsletter.runtime import Runtime

# Who approved, when it was the command line: roles are the admin's; the shell is the operator's.
OPERATOR = "operator (command line)"


@dataclass(frozen=True)
class Approved:
    key: str
    send_at: datetime


@dataclass(frozen=True)
class Preview:
    """An issue's variant as a subscriber gets it, placeholders filled with sample values."""

    issue_key: str
    subject: str
    html: bytes
    text: bytes


def preview(runtime: Runtime, issue_id: int, topic_key: str) -> Preview:
    """The stored variant for `topic_key`, or one rendered now; links that change nothing."""
    with runtime.sessions() as session:
        issue = _issue(session, issue_id)
        stored = session.scalar(
            select(IssueVariant).where(
                IssueVariant.issue_id == issue.id, IssueVariant.topic_key == topic_key
            )
        )
        if stored is not None:
            subject, html, text = stored.subject, stored.html, stored.text
        else:
            rendered = render_variant(issue, topic_key, runtime.settings)
            if rendered is None:
                raise DigestError(f"issue {issue.key} has no posts for topics {topic_key!r}")
            subject, html, text = rendered.subject, rendered.html, rendered.text
        issue_key = issue.key
    values = _preview_values(runtime)
    return Preview(
        issue_key,
        Template(subject.encode()).fill(values).decode(),
        Template(html.encode()).fill(values),
        Template(text.encode()).fill(values),
    )


def _preview_values(runtime: Runtime) -> dict[str, bytes]:
    """What the placeholders show in a preview: working-looking links that change nothing."""
    base = runtime.settings.site.base_url
    return values_for(
        {
            "name": "Reader",
            "email": "reader@example.org",
            "unsubscribe_url": f"{base}/unsubscribe?token=preview",
            "preferences_url": f"{base}/preferences?token=preview",
            "reader_mark": "",
        }
    )


def _issue(session: Session, issue_id: int) -> Issue:
    issue = session.get(Issue, issue_id, options=[selectinload(Issue.variants)])
    if issue is None:
        raise DigestError(f"no issue {issue_id}")
    return issue


def approve(
    runtime: Runtime, issue_id: int, editor: str, send_at: datetime | None = None
) -> Approved:
    """Approve a draft to go out at `send_at`, by default the next `digest.send` slot (local).

    ReviewError when it is not a draft, has not been rendered, or the time has passed.
    """
    settings = runtime.settings
    now = runtime.clock.now()
    when = send_at or review.next_slot(settings.digest.send, settings.zone, now)
    with runtime.sessions.begin() as session:
        issue = _issue(session, issue_id)
        review.approve(issue, editor, now, when)
        return Approved(issue.key, when)


def unapprove(runtime: Runtime, issue_id: int) -> str:
    """Take an approved issue back to draft before it starts sending; its key."""
    return _decide(runtime, issue_id, review.unapprove)


def cancel(runtime: Runtime, issue_id: int) -> str:
    """Cancel an issue that has not been sent (a sending one stops at its next batch); its key."""
    return _decide(runtime, issue_id, review.cancel)


def send_now(runtime: Runtime, issue_id: int, editor: str) -> str:
    """Approve a draft (or move an approved issue's time) to now; the scheduler sends it next."""
    return _decide(runtime, issue_id, lambda issue, now: review.send_now(issue, editor, now))


def _decide(runtime: Runtime, issue_id: int, action: Callable[[Issue, datetime], None]) -> str:
    """One review action in one transaction; DigestError for an unknown issue, else ReviewError."""
    with runtime.sessions.begin() as session:
        issue = _issue(session, issue_id)
        action(issue, runtime.clock.now())
        return issue.key


def send_test(
    runtime: Runtime, issue_id: int, recipients: Sequence[str], topic_key: str = ""
) -> None:
    """Send test copies of one variant, subject marked [TEST], through the real transport.

    `recipients` are addresses `proof_addresses` checked (five at most); no delivery row, no
    subscriber is touched. DigestError for an unknown issue or variant; DeliveryError when
    the mail server refuses.
    """
    with runtime.sessions() as session:
        issue = _issue(session, issue_id)
    variant = next((v for v in issue.variants if v.topic_key == topic_key), None)
    if variant is None:
        shown = f"topics {topic_key!r}" if topic_key else "all topics"
        raise DigestError(f"issue {issue.key} has no rendered version for {shown}")
    transport = runtime.transport()
    try:
        send_proofs(
            mail_setup(runtime.settings, runtime.signing_key),
            variant,
            recipients,
            transport,
            runtime.clock.now(),
        )
    finally:
        transport.close()
