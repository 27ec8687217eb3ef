"""The daily digest and story emails, one rule at a time: policies, quiet days, quiet hours,
the send grace, and the scheduler's job."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.editors import review
from newsletter.editors.accounts import add_editor
from newsletter.editors.models import Role
from newsletter.errors import DigestError
from newsletter.mail.transport import transport_from_settings
from newsletter.models import Delivery, Issue, IssueKind, IssueStatus
from newsletter.pipeline import cadence, due
from newsletter.runtime import Runtime
from newsletter.schedule.triggers import job_specs
from subscribers.models import Cadence, Subscriber, SubscriberTopic
from tests import factories
from tests.cadences import offering_every_cadence
from tests.smtpd import SmtpServer

EDITOR = "editor@news.example.org"


def _runtime(settings: Settings, smtp: SmtpServer, start: datetime, **digest: object) -> Runtime:
    settings = offering_every_cadence(settings)
    changed = settings.digest.model_copy(update=digest)
    runtime = Runtime.build(
        settings.model_copy(update={"digest": changed, "smtp_url": smtp.url}),
        clock=FixedClock(start),
    )
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, start)
        for email, often in (
            ("daily@example.org", Cadence.DAILY),
            ("each@example.org", Cadence.EACH),
        ):
            reader = factories.add_subscriber(session, email, start, [topics["asylum"]])
            session.execute(
                update(SubscriberTopic)
                .where(SubscriberTopic.subscriber_id == reader.id)
                .values(cadence=often)
            )
        add_editor(session, EDITOR, "a long demo password", Role.PUBLISHER, start)
    return runtime


def _local(runtime: Runtime, day: datetime, at: time) -> datetime:
    return datetime.combine(day.date(), at, tzinfo=runtime.settings.zone)


def _post(runtime: Runtime, slug: str, at: datetime) -> None:
    with runtime.sessions.begin() as session:
        asylum = factories.add_topics(session, runtime.settings, at)["asylum"]
        factories.add_post(session, slug, at, [asylum], first_seen_at=at)


def _issues(runtime: Runtime, kind: IssueKind) -> list[Issue]:
    with runtime.sessions() as session:
        found = list(session.scalars(select(Issue).where(Issue.kind == kind.value)))
        session.expunge_all()
        return found


def _send_due(runtime: Runtime) -> str:
    return due.send_due(
        runtime, lambda: transport_from_settings(runtime.settings), threading.Event()
    )


def test_the_daily_digest_under_approval_waits_and_the_editors_hear(
    settings: Settings, smtp: SmtpServer
) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day, policy_daily="approval")
    _post(runtime, "court-ruling", _local(runtime, day, time(6, 0)) - timedelta(days=1))
    runtime.clock = FixedClock(_local(runtime, day, time(7, 0)))
    line = cadence.run(runtime)
    assert "waits for approval" in line
    assert "told 1 editor" in line
    [issue] = _issues(runtime, IssueKind.DAILY)
    assert issue.status == IssueStatus.DRAFT
    [notice] = smtp.to(EDITOR)
    assert "Daily digest 2026-11-10-daily waits for approval" in str(notice.message["Subject"])
    assert "Nothing goes out until a publisher approves it" in notice.data.decode()
    # Not sent at its hour without approval, nor built twice.
    _send_due(runtime)
    assert smtp.to("daily@example.org") == []
    assert "daily digest" not in cadence.run(runtime)


def test_a_day_with_nothing_new_sends_no_daily_digest(settings: Settings, smtp: SmtpServer) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day)
    runtime.clock = FixedClock(_local(runtime, day, time(7, 0)))
    assert cadence.run(runtime) == "nothing new for daily or story readers"
    assert _issues(runtime, IssueKind.DAILY) == []


def test_a_daily_digest_missed_by_more_than_the_grace_is_not_built(
    settings: Settings, smtp: SmtpServer
) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day)
    _post(runtime, "court-ruling", _local(runtime, day, time(1, 0)))
    grace = runtime.settings.schedule.send_grace_hours
    runtime.clock = FixedClock(_local(runtime, day, time(7, 0)) + timedelta(hours=grace, minutes=1))
    cadence.run(runtime)
    assert _issues(runtime, IssueKind.DAILY) == []
    # The story email still goes to its reader: quiet hours were over long ago.
    [story] = _issues(runtime, IssueKind.STORY)
    assert story.status == IssueStatus.APPROVED


def test_a_story_in_quiet_hours_waits_for_their_end(settings: Settings, smtp: SmtpServer) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day)
    late = _local(runtime, day, time(22, 30))
    _post(runtime, "night-ruling", late)
    runtime.clock = FixedClock(late)
    assert "approved to go" in cadence.run(runtime)
    [story] = _issues(runtime, IssueKind.STORY)
    assert story.send_at == _local(runtime, day + timedelta(days=1), time(7, 0))
    runtime.clock = FixedClock(late + timedelta(hours=1))
    _send_due(runtime)
    assert smtp.to("each@example.org") == []
    runtime.clock = FixedClock(_local(runtime, day + timedelta(days=1), time(7, 0)))
    _send_due(runtime)
    assert len(smtp.to("each@example.org")) == 1
    assert smtp.to("daily@example.org") == []  # a story email is not theirs


@pytest.mark.parametrize(
    ("offered", "scheduled"), [(["weekly"], False), (["weekly", "daily"], True)]
)
def test_the_scheduler_runs_the_cadences_job_only_when_offered(
    settings: Settings, offered: list[str], scheduled: bool
) -> None:
    digest = settings.digest.model_copy(update={"cadences": offered})
    specs = job_specs(settings.model_copy(update={"digest": digest}))
    assert ("cadences" in {spec.id for spec in specs}) is scheduled


def test_a_cancelled_story_email_is_not_made_again(settings: Settings, smtp: SmtpServer) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day)
    noon = _local(runtime, day, time(12, 0))
    _post(runtime, "wrong-story", noon)
    runtime.clock = FixedClock(noon)
    cadence.run(runtime)
    [story] = _issues(runtime, IssueKind.STORY)
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, story.id)
        assert issue is not None
        review.cancel(issue, noon)
    runtime.clock = FixedClock(noon + timedelta(minutes=5))
    assert cadence.run(runtime) == "nothing new for daily or story readers"
    # The next story's email carries only itself, not the cancelled one.
    _post(runtime, "right-story", noon + timedelta(minutes=30))
    runtime.clock = FixedClock(noon + timedelta(minutes=30))
    cadence.run(runtime)
    runtime.clock = FixedClock(noon + timedelta(minutes=50))
    _send_due(runtime)
    [mail] = smtp.to("each@example.org")
    assert "Right Story" in mail.data.decode()
    assert "Wrong Story" not in mail.data.decode()


def test_a_daily_digest_that_fails_to_build_does_not_stop_the_story_emails(
    settings: Settings, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day)
    _post(runtime, "court-ruling", _local(runtime, day, time(6, 30)))

    def broken(*args: object, **kwargs: object) -> None:
        raise DigestError("issue 2026-11-10-daily: the digest template failed")

    monkeypatch.setattr(cadence, "build_daily", broken)
    runtime.clock = FixedClock(_local(runtime, day, time(7, 0)))
    line = cadence.run(runtime)
    assert "daily: not built: issue 2026-11-10-daily: the digest template failed" in line
    assert "story email" in line
    assert len(_issues(runtime, IssueKind.STORY)) == 1


def test_a_daily_reader_with_nothing_new_on_their_topics_is_skipped_with_that_reason(
    settings: Settings, smtp: SmtpServer
) -> None:
    day = datetime(2026, 11, 10, tzinfo=settings.zone)
    runtime = _runtime(settings, smtp, day)
    with runtime.sessions.begin() as session:
        border = factories.add_topics(session, runtime.settings, day)["border-enforcement"]
        reader = factories.add_subscriber(session, "border@example.org", day, [border])
        session.execute(
            update(SubscriberTopic)
            .where(SubscriberTopic.subscriber_id == reader.id)
            .values(cadence=Cadence.DAILY)
        )
    _post(runtime, "court-ruling", _local(runtime, day, time(6, 0)))  # asylum only
    runtime.clock = FixedClock(_local(runtime, day, time(7, 0)))
    cadence.run(runtime)
    _send_due(runtime)
    assert len(smtp.to("daily@example.org")) == 1
    assert smtp.to("border@example.org") == []
    with runtime.sessions() as session:
        skipped = session.scalars(
            select(Delivery.last_error)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.email == "border@example.org")
        ).one()
    assert skipped == "nothing new for border-enforcement"
