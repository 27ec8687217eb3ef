"""review: an editor's decisions on an issue (approve, test copies), whoever takes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, selectinload

from newsletter.deliver.proof import send_proofs
from newsletter.deliver.setup import mail_setup
from newsletter.editors import review
from newsletter.errors import DigestError
from newsletter.models import Issue
from newsletter.runtime import Runtime

# Who approved, when it was the command line: roles are the admin's; the shell is the operator's.
OPERATOR = "operator (command line)"


@dataclass(frozen=True)
class Approved:
    key: str
    send_at: datetime


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
