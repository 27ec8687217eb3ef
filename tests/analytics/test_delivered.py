"""A click on a link from a delivered email: counted in aggregate, or per subscriber if opted in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.analytics.models import ClickCount, ClickEvent
from newsletter.analytics.store import counted
from newsletter.clicktokens import make_reader_mark
from newsletter.clock import FixedClock
from newsletter.config.schema import AnalyticsSettings
from newsletter.pipeline import reader
from newsletter.pipeline.clicks import fold_old_clicks
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from newsletter.web.clicks import desk_of
from tests.analytics.delivered import deliver_issue
from tests.smtpd import SmtpServer

READER = {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15"}


def _click(runtime: Runtime, link: str) -> str:
    client = TestClient(create_app(runtime), follow_redirects=False)
    response = client.get(link, headers=READER)
    assert response.status_code == 302
    desk_of(client.app).flusher.flush(everything=True)  # type: ignore[arg-type]
    return response.headers["location"]


def _per_subscriber(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"analytics": AnalyticsSettings(per_subscriber=True, retention_days=30)}
    )


def test_by_default_a_delivered_click_is_counted_and_names_nobody(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    runtime.clock = FixedClock(datetime.now(UTC))
    email = deliver_issue(runtime, smtp)
    links = email.tracked(runtime.settings.site.base_url)
    assert links
    assert not any("." in link.rsplit("/", 1)[1] for link in links)  # no reader's mark
    assert "/unsubscribe?token=" in email.html  # the personal links stay direct
    location = _click(runtime, email.of_kind(runtime, "story")[0])
    assert location.startswith("https://news.example.org/story-")
    with runtime.sessions() as session:
        assert counted(session, email.issue_id) == {"human": 1}
        assert session.scalars(select(ClickEvent)).all() == []


def test_per_subscriber_ties_the_click_to_the_reader_until_retention_folds_it(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    clock = FixedClock(datetime.now(UTC))
    runtime.clock = clock
    _per_subscriber(runtime)
    email = deliver_issue(runtime, smtp)
    links = email.tracked(runtime.settings.site.base_url)
    assert all("." in link.rsplit("/", 1)[1] for link in links)
    _click(runtime, email.of_kind(runtime, "story")[0])
    with runtime.sessions() as session:
        (event,) = session.scalars(select(ClickEvent)).all()
        assert (event.subscriber_id, event.verdict) == (email.subscriber_id, "human")
        assert counted(session, email.issue_id) == {"human": 1}
    with runtime.sessions() as session:
        story = reader.story(session, email.subscriber_id)
    assert story is not None
    clicks = [moment.text for moment in story.moments if moment.kind == "click"]
    assert len(clicks) == 1
    assert clicks[0].startswith("Clicked “Story 0” in issue 20")
    assert fold_old_clicks(runtime) == 0  # too young
    clock.advance(timedelta(days=31))
    assert fold_old_clicks(runtime) == 1
    with runtime.sessions() as session:
        assert session.scalars(select(ClickEvent)).all() == []
        (row,) = session.scalars(select(ClickCount)).all()
        assert (row.verdict, row.clicks) == ("human", 1)
        assert counted(session, email.issue_id) == {"human": 1}


def test_a_reader_mark_from_another_issue_names_nobody(runtime: Runtime, smtp: SmtpServer) -> None:
    runtime.clock = FixedClock(datetime.now(UTC))
    _per_subscriber(runtime)
    email = deliver_issue(runtime, smtp)
    link = email.tracked(runtime.settings.site.base_url)[0]
    mark = link.rsplit(".", 1)[1]
    forged = make_reader_mark("x" * 40, email.issue_id, email.subscriber_id)
    _click(runtime, link.replace(mark, forged))
    with runtime.sessions() as session:
        assert session.scalars(select(ClickEvent)).all() == []
        assert counted(session, email.issue_id) == {"human": 1}


@pytest.mark.parametrize("per_subscriber", [False, True])
def test_the_unsubscribe_link_is_never_tracked(
    runtime: Runtime, smtp: SmtpServer, per_subscriber: bool
) -> None:
    runtime.clock = FixedClock(datetime.now(UTC))
    if per_subscriber:
        _per_subscriber(runtime)
    email = deliver_issue(runtime, smtp)
    assert "/r/" not in email.text.split("Unsubscribe", 1)[-1].split("\n", 2)[0]
    assert "/unsubscribe?token=" in email.text
