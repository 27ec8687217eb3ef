"""What readers read: an issue's deliveries, its readers' exits and its clicks, joined.

Deliveries (deliver), the issue's stored links and variants (digest), click counts
(analytics) and subscriber events (subscribers) meet here, for the admin page, the CSV
exports and `newsletter report` alike.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.analytics.machines import HUMAN, VERDICTS
from newsletter.analytics.store import hourly
from newsletter.deliver.plan import delivery_counts
from newsletter.digest.clicklinks import DONATE, STORY
from newsletter.digest.special import split_key
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueLink, IssueVariant, Post, Topic
from newsletter.runtime import Runtime
from subscribers.models import Status, SubscriberEvent

_MONTH = re.compile(r"(\d{4})-(\d{2})")
FILTERS = tuple(verdict for verdict in VERDICTS if verdict != HUMAN)
# Clicks over the first days after the send, and exits counted against the issue that long.
FIRST_DAYS = 7


@dataclass(frozen=True)
class LinkFigures:
    position: int
    kind: str
    label: str
    url: str
    verdicts: dict[str, int]

    @property
    def humans(self) -> int:
        return self.verdicts.get(HUMAN, 0)

    @property
    def filtered(self) -> int:
        return sum(n for verdict, n in self.verdicts.items() if verdict != HUMAN)


@dataclass(frozen=True)
class IssueReport:
    issue_id: int
    key: str
    sent_at: datetime | None
    delivered: int
    failed: int
    bounced: int
    unsubscribed: int
    complained: int
    links: list[LinkFigures]
    per_day: list[tuple[date, int]]  # human clicks on each of the first days, local dates
    per_topic: list[tuple[str, int]]  # human clicks by the variant's topics
    verdicts: dict[str, int] = field(default_factory=dict)

    @property
    def stories(self) -> list[LinkFigures]:
        return [link for link in self.links if link.kind == STORY]

    @property
    def donate(self) -> LinkFigures | None:
        return next((link for link in self.links if link.kind == DONATE), None)

    @property
    def humans(self) -> int:
        return self.verdicts.get(HUMAN, 0)

    @property
    def filtered(self) -> dict[str, int]:
        return {verdict: self.verdicts.get(verdict, 0) for verdict in FILTERS}


def issue_report(session: Session, issue: Issue, zone: ZoneInfo) -> IssueReport:
    clicks = hourly(session, [issue.id])
    sent = issue.sent_at or issue.sending_started_at
    deliveries = delivery_counts(session, issue.id)
    left = exits(session, issue.id, sent)
    return IssueReport(
        issue_id=issue.id,
        key=issue.key,
        sent_at=sent,
        delivered=deliveries.sent,
        failed=deliveries.failed,
        bounced=left.get(Status.BOUNCED, 0),
        unsubscribed=left.get(Status.UNSUBSCRIBED, 0),
        complained=left.get(Status.COMPLAINED, 0),
        links=_links(session, issue.id, clicks),
        per_day=_per_day(clicks, sent, zone),
        per_topic=_per_topic(session, issue.id, clicks),
        verdicts=_verdicts(clicks),
    )


def month_reports(session: Session, month: date, zone: ZoneInfo) -> list[IssueReport]:
    """Every issue sent in the calendar month (the site's time zone), oldest first."""
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    issues = session.scalars(
        select(Issue)
        .where(Issue.sent_at >= start, Issue.sent_at < end)
        .order_by(Issue.sent_at, Issue.id)
    )
    return [issue_report(session, issue, zone) for issue in issues]


def top_stories(reports: list[IssueReport], limit: int = 10) -> list[tuple[str, LinkFigures]]:
    """The stories readers clicked most across the issues, with the issue each was in."""
    ranked = [(report.key, story) for report in reports for story in report.stories]
    ranked.sort(key=lambda pair: (-pair[1].humans, pair[0], pair[1].position))
    return [pair for pair in ranked if pair[1].humans][:limit]


def _verdicts(clicks: Counter[tuple[int, int, int, datetime, str]]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for (_, _, _, _, verdict), n in clicks.items():
        totals[verdict] += n
    return dict(totals)


def _links(
    session: Session, issue_id: int, clicks: Counter[tuple[int, int, int, datetime, str]]
) -> list[LinkFigures]:
    verdicts: dict[int, Counter[str]] = {}
    for (_, position, _, _, verdict), n in clicks.items():
        verdicts.setdefault(position, Counter())[verdict] += n
    rows = session.execute(
        select(IssueLink, Post.title)
        .outerjoin(Post, Post.id == IssueLink.post_id)
        .where(IssueLink.issue_id == issue_id)
        .order_by(IssueLink.position)
    ).all()
    return [
        LinkFigures(
            position=link.position,
            kind=link.kind,
            label=title or link.kind.capitalize(),
            url=link.url,
            verdicts=dict(verdicts.get(link.position, Counter())),
        )
        for link, title in rows
    ]


def _per_day(
    clicks: Counter[tuple[int, int, int, datetime, str]], sent: datetime | None, zone: ZoneInfo
) -> list[tuple[date, int]]:
    if sent is None:
        return []
    first = sent.astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range(FIRST_DAYS)]
    per: Counter[date] = Counter()
    for (_, _, _, hour, verdict), n in clicks.items():
        if verdict == HUMAN:
            per[hour.astimezone(zone).date()] += n
    return [(day, per[day]) for day in days]


def _per_topic(
    session: Session, issue_id: int, clicks: Counter[tuple[int, int, int, datetime, str]]
) -> list[tuple[str, int]]:
    names = dict(session.execute(select(Topic.slug, Topic.name)).all())
    keys = dict(
        session.execute(
            select(IssueVariant.id, IssueVariant.topic_key).where(IssueVariant.issue_id == issue_id)
        ).all()
    )
    per: Counter[str] = Counter()
    for (_, _, variant_id, _, verdict), n in clicks.items():
        if verdict != HUMAN:
            continue
        stored = keys.get(variant_id)
        # A copy without the stories its readers had that day counts under its topics.
        key = split_key(stored)[0] if stored is not None else None
        if key is None:
            label = "An earlier rendering"
        elif not key:
            label = "All topics"
        else:
            label = ", ".join(names.get(slug, slug) for slug in key.split(","))
        per[label] += n
    return sorted(per.items(), key=lambda pair: (-pair[1], pair[0]))


def exits(session: Session, issue_id: int, sent: datetime | None) -> dict[Status, int]:
    """Recipients who bounced, unsubscribed or complained in the first days after the send."""
    if sent is None:
        return {}
    rows = session.execute(
        select(SubscriberEvent.to_status, func.count(func.distinct(SubscriberEvent.subscriber_id)))
        .join(Delivery, Delivery.subscriber_id == SubscriberEvent.subscriber_id)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status == DeliveryStatus.SENT,
            SubscriberEvent.at >= sent,
            SubscriberEvent.at < sent + timedelta(days=FIRST_DAYS),
            SubscriberEvent.to_status.in_([Status.BOUNCED, Status.UNSUBSCRIBED, Status.COMPLAINED]),
        )
        .group_by(SubscriberEvent.to_status)
    ).all()
    return {Status(status): int(n) for status, n in rows}


def sent_issue_report(runtime: Runtime, issue_id: int) -> IssueReport | None:
    """The figures of an issue that has gone out (or is going); None before it has."""
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        if issue is None or (issue.sent_at or issue.sending_started_at) is None:
            return None
        return issue_report(session, issue, runtime.settings.zone)


def month_of(runtime: Runtime, month: date) -> list[IssueReport]:
    with runtime.sessions() as session:
        return month_reports(session, month, runtime.settings.zone)


def latest_sent_id(runtime: Runtime) -> int | None:
    with runtime.sessions() as session:
        return session.scalar(
            select(Issue.id)
            .where(Issue.sent_at.is_not(None))
            .order_by(Issue.sent_at.desc(), Issue.id.desc())
            .limit(1)
        )


def parse_month(value: str) -> date | None:
    """ "2026-11" as the month's first day; None for anything else (or before 1970)."""
    match = _MONTH.fullmatch(value)
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
        return None
    return date(int(match[1]), int(match[2]), 1)
