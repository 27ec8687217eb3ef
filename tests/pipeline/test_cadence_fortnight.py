"""Two weeks on a fixed clock, one reader on each cadence and one who switches on Wednesday:
every story of their topics reaches each of them exactly once, at the right local times."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select, update

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.digest.build import build_issue
from newsletter.mail.transport import transport_from_settings
from newsletter.models import Topic
from newsletter.pipeline import cadence, due, review, special
from newsletter.runtime import Runtime
from subscribers.models import Cadence, Subscriber, SubscriberTopic
from tests import factories
from tests.cadences import offering_every_cadence
from tests.smtpd import SmtpServer

STEP = timedelta(minutes=10)
DAYS = 14
READERS = {
    "weekly@example.org": Cadence.WEEKLY,
    "daily@example.org": Cadence.DAILY,
    "each@example.org": Cadence.EACH,
    "switcher@example.org": Cadence.WEEKLY,  # daily from Wednesday noon
}
# (day, local time, topic) of each post; day 0 is a Monday. Two close together on day 1
# (one email), three in quiet hours (held until 07:00), nothing late on the last day.
POSTS = [
    (day, at, topic)
    for day in range(DAYS)
    for at, topic in (
        (time(8, 5), "border-enforcement"),
        (time(13, 20), "asylum"),
        *([(time(13, 25), "border-enforcement")] if day == 1 else []),
        *([(time(22, 40), "asylum")] if day in (2, 5) else []),
        *([(time(1, 30), "border-enforcement")] if day == 6 else []),
    )
    if not (day == 0 and at < time(8))
]
BREAKING_DAY, BREAKING_AT = 8, time(12, 0)  # about that day's 08:05 story, to everyone


@dataclass
class Mail:
    at: datetime  # the clock when the SMTP server took it
    message: EmailMessage


@dataclass
class Fortnight:
    runtime: Runtime
    clock: FixedClock
    smtp: SmtpServer
    start: datetime
    arrived: dict[str, datetime] = field(default_factory=dict)  # title: when collected
    mail: dict[str, list[Mail]] = field(default_factory=dict)  # reader: what they got
    seen: int = 0

    def local(self, day: int, at: time) -> datetime:
        zone = self.runtime.settings.zone
        return datetime.combine((self.start + timedelta(days=day)).date(), at, tzinfo=zone)

    def collect_mail(self) -> None:
        for received in self.smtp.received[self.seen :]:
            message = message_from_bytes(received.data, policy=policy.default)
            assert isinstance(message, EmailMessage)
            for address in received.recipients:
                self.mail.setdefault(address, []).append(Mail(self.clock.now(), message))
        self.seen = len(self.smtp.received)


def _title(day: int, at: time) -> str:
    return f"Story {day:02d} {at:%H%M}"


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def _settings(settings: Settings, smtp: SmtpServer) -> Settings:
    settings = offering_every_cadence(settings)
    digest = settings.digest.model_copy(update={"max_posts": 50, "auto_send": True})
    return settings.model_copy(update={"digest": digest, "smtp_url": smtp.url})


def _stories(mails: list[Mail], titles: set[str]) -> list[str]:
    """Every story title each message shows, in the order they came."""
    found = []
    for mail in mails:
        body = mail.message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        found += [title for title in titles if title in text]
    return found


def _run(world: Fortnight) -> None:
    runtime, clock = world.runtime, world.clock
    zone = runtime.settings.zone
    factory = lambda: transport_from_settings(runtime.settings)  # noqa: E731
    stop = threading.Event()
    pending = sorted((world.local(day, at), day, at, topic) for day, at, topic in POSTS)
    end = world.local(DAYS, time(7, 30))
    switch = world.local(2, time(12, 0))
    breaking = world.local(BREAKING_DAY, BREAKING_AT)
    while clock.now() <= end:
        now = clock.now()
        local = now.astimezone(zone)
        with runtime.sessions.begin() as session:
            topics = {t.slug: t for t in session.scalars(select(Topic))}
            while pending and pending[0][0] <= now:
                _, day, at, topic = pending.pop(0)
                title = _title(day, at)
                factories.add_post(
                    session,
                    _slug(title),
                    world.local(day, at),
                    [topics[topic]],
                    title=title,
                    first_seen_at=now,
                )
                world.arrived[title] = now
        if now == switch:
            with runtime.sessions.begin() as session:
                reader = select(Subscriber.id).where(Subscriber.email == "switcher@example.org")
                session.execute(
                    update(SubscriberTopic)
                    .where(SubscriberTopic.subscriber_id.in_(reader))
                    .values(cadence=Cadence.DAILY)
                )
        if local.weekday() == 3 and local.time() == time(9, 0):  # the weekly build slot
            with runtime.sessions.begin() as session:
                build_issue(session, runtime.settings, now, click_key=runtime.signing_key)
        if now == breaking:
            url = f"https://news.example.org/{_slug(_title(BREAKING_DAY, time(8, 5)))}/"
            draft = special.create(runtime, special.SpecialDraft("breaking", post_url=url))
            review.send_now(runtime, draft.issue_id, "pub@example.org")
        cadence.run(runtime)
        due.send_due(runtime, factory, stop)
        world.collect_mail()
        clock.at = now + STEP


def test_every_reader_gets_every_story_once_at_the_right_local_times(
    settings: Settings, smtp: SmtpServer
) -> None:
    runtime = Runtime.build(_settings(settings, smtp))
    zone = runtime.settings.zone
    # A Monday in November, after the clocks went back: every day has 24 hours.
    start = datetime(2026, 11, 9, tzinfo=zone)
    clock = FixedClock(start)
    runtime.clock = clock
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, start)
        chosen = [topics["border-enforcement"], topics["asylum"]]
        for email, often in READERS.items():
            person = factories.add_subscriber(session, email, start - timedelta(days=30), chosen)
            session.execute(
                update(SubscriberTopic)
                .where(SubscriberTopic.subscriber_id == person.id)
                .values(cadence=often)
            )
    world = Fortnight(runtime, clock, smtp, start)
    _run(world)
    runtime.close()

    titles = set(world.arrived)
    assert len(titles) == len(POSTS)
    last_weekly_end = world.local(10, time(9, 0))  # the second weekly issue's period end
    last_daily = world.local(DAYS, time(7, 0))
    breaking_story = _title(BREAKING_DAY, time(8, 5))
    expected = {
        "weekly@example.org": {t for t, at in world.arrived.items() if at < last_weekly_end}
        | {breaking_story},
        "daily@example.org": {t for t, at in world.arrived.items() if at < last_daily},
        "each@example.org": titles,
        "switcher@example.org": {t for t, at in world.arrived.items() if at < last_daily},
    }
    for reader, wanted in expected.items():
        got = _stories(world.mail.get(reader, []), titles)
        assert sorted(got) == sorted(wanted), reader  # each once: no repeat, none missing

    def local_times(reader: str) -> set[tuple[int, time]]:
        return {
            (mail.at.astimezone(zone).weekday(), mail.at.astimezone(zone).time())
            for mail in world.mail[reader]
            if "Breaking news" not in str(mail.message["Subject"])
        }

    # Weekly: Fridays at 10:00. Daily: 07:00 every day with news (never on day 0's morning).
    assert local_times("weekly@example.org") == {(4, time(10, 0))}
    assert {at for _, at in local_times("daily@example.org")} == {time(7, 0)}
    assert len(world.mail["daily@example.org"]) == DAYS + 1  # 13 mornings, breaking, ...
    # Each story: at least the delay after the first story it carries, never in quiet hours.
    quiet_start, quiet_end = time(21, 0), time(7, 0)
    for mail in world.mail["each@example.org"]:
        local = mail.at.astimezone(zone).time()
        assert quiet_end <= local < quiet_start, mail.at
        carried = _stories([mail], titles)
        first = min(world.arrived[title] for title in carried)
        assert mail.at >= first + timedelta(minutes=15)
    # The two stories of day 1 a few minutes apart went as one email; so did the night's.
    together = [_stories([m], titles) for m in world.mail["each@example.org"]]
    assert sorted([_title(1, time(13, 20)), _title(1, time(13, 25))]) in map(sorted, together)
    assert sorted([_title(5, time(22, 40)), _title(6, time(1, 30))]) in map(sorted, together)
