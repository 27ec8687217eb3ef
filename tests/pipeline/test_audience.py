"""The audience the editors are shown is the audience the send then mails, reasons and all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.digest.variants import audience_keys, render_variants
from newsletter.errors import DigestError
from newsletter.mail.transport import MemoryTransport
from newsletter.models import IssuePost
from newsletter.pipeline import review
from newsletter.pipeline.audience import audience
from newsletter.pipeline.send import send
from newsletter.runtime import Runtime
from subscribers.audience import topic_sets
from subscribers.models import Cause, Status, Suppression
from tests import factories

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    built = Runtime.build(settings, clock=FixedClock(NOW))
    migrate.upgrade(built.engine)
    return built


def _issue_about_border(runtime: Runtime) -> int:
    """A draft whose only story is about border enforcement, rendered for today's audience."""
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, NOW)
        border, asylum = topics["border-enforcement"], topics["asylum"]
        post = factories.add_post(session, "the-wall", NOW - timedelta(days=1), [border])
        people = [
            factories.subscriber("all-1@example.net", NOW),
            factories.subscriber("all-2@example.net", NOW),
            factories.subscriber("border@example.net", NOW, topics=[border]),
            factories.subscriber("asylum@example.net", NOW, topics=[asylum]),
            factories.subscriber("new@example.net", NOW, status=Status.PENDING),
            factories.subscriber("gone@example.net", NOW, status=Status.UNSUBSCRIBED),
            factories.subscriber("away@example.net", NOW, paused_until=NOW + timedelta(days=3)),
            factories.subscriber("back@example.net", NOW, paused_until=NOW - timedelta(days=1)),
            factories.subscriber("blocked@example.net", NOW),
        ]
        session.add_all(people)
        session.add(Suppression(email="blocked@example.net", reason=Cause.ADMIN, created_at=NOW))
        issue = factories.issue(NOW)
        issue.posts = [IssuePost(post_id=post.id, position=0)]
        session.add(issue)
        session.flush()
        session.refresh(issue)
        render_variants(session, issue, runtime.settings, NOW, audience_keys(session, NOW))
        return issue.id


def test_the_count_shown_is_the_count_sent_and_the_rest_have_reasons(runtime: Runtime) -> None:
    issue_id = _issue_about_border(runtime)
    shown = audience(runtime, issue_id)
    assert shown.receive == 4  # two for everything, one for border, one back from a pause
    assert shown.others == {
        "pending": 1,
        "unsubscribed": 1,
        "paused": 1,
        "suppressed": 1,
        "off_topic": 1,
    }
    assert shown.reasons()[:2] == [("unconfirmed", 1), ("paused", 1)]
    with runtime.sessions() as session:
        assert shown.topic_sets == topic_sets(session, NOW)
    assert shown.topic_sets == {"": 3, "border-enforcement": 1, "asylum": 1}

    review.send_now(runtime, issue_id, "pub@example.org")
    memory = MemoryTransport()
    sent = send(runtime, issue_id, lambda: memory)
    assert sent.result is not None
    assert len(memory.sent) == shown.receive
    mailed = {address for message in memory.sent for address in message.recipients}
    assert "asylum@example.net" not in mailed
    assert "back@example.net" in mailed
    # Once sent, those already mailed are no longer "will receive it".
    after = audience(runtime, issue_id)
    assert (after.receive, after.others["done"]) == (0, shown.receive)


def test_an_unknown_issue_is_a_digest_error(runtime: Runtime) -> None:
    with pytest.raises(DigestError):
        audience(runtime, 999)
