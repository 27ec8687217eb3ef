"""A delivered issue that readers and machines clicked, and an editor signed in to see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from newsletter.web.clicks import desk_of
from subscribers.lifecycle import transition
from subscribers.models import Cause, Status, Subscriber
from tests.analytics.delivered import Delivered, deliver_issue
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import make_editor, sign_in

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0"


def clicked_issue(runtime: Runtime, smtp: SmtpServer) -> tuple[Delivered, TestClient]:
    """A delivered issue with two human clicks, a donate click, a scanner's and the trap's;
    the reader unsubscribes an hour after the send."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    runtime.clock = clock
    email = deliver_issue(runtime, smtp, stories=3)
    client = TestClient(create_app(runtime), base_url="https://news.example.org")
    stories = email.of_kind(runtime, "story")
    clock.advance(timedelta(hours=1))
    for link, agent in [(stories[0], PHONE), (stories[0], DESKTOP), (stories[1], PHONE)]:
        assert client.get(link, headers={"User-Agent": agent}, follow_redirects=False).is_redirect
    donate = email.of_kind(runtime, "donate")[0]
    client.get(donate, headers={"User-Agent": DESKTOP}, follow_redirects=False)
    client.get(stories[2], headers={"User-Agent": "Barracuda/1"}, follow_redirects=False)
    trap = email.of_kind(runtime, "trap")[0]
    client.get(trap, headers={"User-Agent": "Mozilla/5.0 sandbox"}, follow_redirects=False)
    desk_of(client.app).flusher.flush(everything=True)  # type: ignore[arg-type]
    with runtime.sessions.begin() as session:
        reader = session.get(Subscriber, email.subscriber_id)
        assert reader is not None
        transition(session, reader, Status.UNSUBSCRIBED, Cause.LINK, clock.now())
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    sign_in(client, "ed@example.org")
    return email, client


def sent_month(runtime: Runtime, issue_id: int) -> str:
    """The month ("2026-11") the issue was sent in, in the site's time zone: not the clock's now,
    which has moved on, and on a month's last evening is already in the next month there."""
    with runtime.sessions() as session:
        sent_at = session.get_one(Issue, issue_id).sent_at
    assert sent_at is not None
    return sent_at.astimezone(runtime.settings.zone).strftime("%Y-%m")
