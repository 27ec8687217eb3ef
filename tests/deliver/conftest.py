"""An approved issue with two rendered variants, and a list of subscribers in every state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from newsletter.config import Settings
from newsletter.digest.placeholders import html_marker, marker
from newsletter.models import Issue, IssueStatus, IssueVariant, Topic
from newsletter.runtime import Runtime
from subscribers.lifecycle import suppress
from subscribers.models import Cause, Status, Subscriber, SubscriberTopic

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def variant_text(label: str) -> tuple[str, str]:
    html = (
        f"<html><body><p>Hello {html_marker('name')}, this is the {label} edition.</p>"
        f'<a href="{html_marker("preferences_url")}">Preferences</a> '
        f'<a href="{html_marker("unsubscribe_url")}">Unsubscribe</a></body></html>'
    )
    text = (
        f"Hello {marker('name')}, this is the {label} edition.\n\n"
        f"Preferences: {marker('preferences_url')}\nUnsubscribe: {marker('unsubscribe_url')}\n"
    )
    return html, text


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
        issue = Issue(
            key="2026-W48",
            status=IssueStatus.APPROVED,
            period_start=NOW - timedelta(days=7),
            period_end=NOW,
            subject="This week: border enforcement — and more",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(issue)
        for key, label in (("", "everything"), ("asylum", "asylum")):
            html, text = variant_text(label)
            session.add(
                IssueVariant(
                    issue=issue,
                    topic_key=key,
                    subject=f"Weekly ({label}) — café",
                    html=html,
                    text=text,
                    rendered_at=NOW,
                )
            )
        eligible: dict[str, str] = {}
        for n in range(count):
            email = f"reader{n}@example.org"
            person = Subscriber(
                email=email,
                name=f"Reader Nº{n}" if n % 2 else f'Ann "{n}" O\'Neil',
                status=Status.ACTIVE,
                created_at=NOW,
                updated_at=NOW,
            )
            if n % 3 == 0:
                person.topics.append(SubscriberTopic(topic_id=asylum.id))
            session.add(person)
            eligible[email] = "asylum" if n % 3 == 0 else "everything"
        ineligible = []
        for email, status in (
            ("gone@example.org", Status.UNSUBSCRIBED),
            ("pending@example.org", Status.PENDING),
        ):
            session.add(
                Subscriber(email=email, name="", status=status, created_at=NOW, updated_at=NOW)
            )
            ineligible.append(email)
        # Active, but on the suppression list: never mailed.
        session.add(
            Subscriber(
                email="blocked@example.org",
                name="",
                status=Status.ACTIVE,
                created_at=NOW,
                updated_at=NOW,
            )
        )
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
