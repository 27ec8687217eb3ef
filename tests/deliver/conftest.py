"""An approved issue with two rendered variants, and a list of subscribers in every state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from newsletter.config import Settings
from newsletter.models import IssueStatus, Topic
from newsletter.runtime import Runtime
from subscribers.lifecycle import suppress
from subscribers.models import Cause, Status
from tests import factories
from tests.factories import variant_text

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)

__all__ = ["NOW", "World", "make_world", "with_delivery"]


@dataclass
class World:
    issue_id: int
    eligible: dict[str, str]  # address -> the edition label it should get
    ineligible: list[str]


def make_world(runtime: Runtime, count: int = 30) -> World:
    with runtime.sessions.begin() as session:
        asylum = Topic(slug="asylum", name="Asylum", description="")
        session.add(asylum)
        session.flush()
        variants = []
        for key, label in (("", "everything"), ("asylum", "asylum")):
            html, text = variant_text(label)
            variants.append(
                factories.variant(
                    NOW, html, text, subject=f"Weekly ({label}) — café", topic_key=key
                )
            )
        issue = factories.issue(
            NOW,
            status=IssueStatus.APPROVED,
            subject="This week: border enforcement — and more",
            variants=variants,
        )
        session.add(issue)
        eligible: dict[str, str] = {}
        for n in range(count):
            email = f"reader{n}@example.org"
            name = f"Reader Nº{n}" if n % 2 else f'Ann "{n}" O\'Neil'
            topics = [asylum] if n % 3 == 0 else []
            session.add(factories.subscriber(email, NOW, name=name, topics=topics))
            eligible[email] = "asylum" if n % 3 == 0 else "everything"
        ineligible = []
        for email, status in (
            ("gone@example.org", Status.UNSUBSCRIBED),
            ("pending@example.org", Status.PENDING),
        ):
            session.add(factories.subscriber(email, NOW, status=status))
            ineligible.append(email)
        # Active, but on the suppression list: never mailed.
        session.add(factories.subscriber("blocked@example.org", NOW))
        suppress(session, "blocked@example.org", Cause.COMPLAINT, NOW)
        ineligible.append("blocked@example.org")
        session.flush()
        issue_id = issue.id
    return World(issue_id, eligible, ineligible)


@pytest.fixture
def world(runtime: Runtime) -> World:
    return make_world(runtime)


def with_delivery(runtime: Runtime, **delivery: object) -> Runtime:
    """The same database and clock, with some [delivery] settings changed."""
    settings = runtime.settings.model_copy(
        update={"delivery": runtime.settings.delivery.model_copy(update=delivery)}
    )
    assert isinstance(settings, Settings)
    return Runtime(settings, runtime.engine, runtime.sessions, runtime.clock)
