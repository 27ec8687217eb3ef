"""Schedule test fixtures: a small week of posts, subscribers and an editor, on a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.clock import FixedClock
from newsletter.editors.accounts import add_editor
from newsletter.editors.models import Role
from newsletter.mail.transport import OutboxTransport, Transport
from newsletter.runtime import Runtime
from tests.factories import add_post, add_subscriber, add_topics

EDITOR = "editor@news.example.org"
READERS = ("ana@example.org", "ben@example.org", "cho@example.org")


@dataclass
class Week:
    runtime: Runtime
    clock: FixedClock
    outbox: Path

    def transport(self) -> Callable[[], Transport]:
        return lambda: OutboxTransport(self.outbox)

    def mail(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.outbox.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    def digests(self) -> list[EmailMessage]:
        return [m for m in self.mail() if m["X-Envelope-To"] in READERS]

    def notices(self) -> list[EmailMessage]:
        return [m for m in self.mail() if m["X-Envelope-To"] == EDITOR]


def fill(runtime: Runtime, at: datetime) -> None:
    """Two posts published the day before `at`, three subscribers and one publisher."""
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, at)
        border = topics["border-enforcement"]
        add_post(session, "beyond-a-border-solution", at - timedelta(days=1), [border])
        add_post(session, "asylum-backlog", at - timedelta(days=1, hours=2), [topics["asylum"]])
        for address in READERS:
            add_subscriber(session, address, at - timedelta(days=30))
        add_editor(session, EDITOR, "a long demo password", Role.PUBLISHER, at)


@pytest.fixture
def week(runtime: Runtime, tmp_path: Path) -> Week:
    """The runtime on a fake clock; start it with `week.clock.at = ...` then `fill`."""
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=runtime.settings.zone))
    runtime.clock = clock
    return Week(runtime, clock, runtime.settings.outbox_dir)
