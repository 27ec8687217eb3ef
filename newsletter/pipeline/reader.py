"""One subscriber's story: their events, every issue planned for them, and why one never came."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.analytics.machines import HUMAN
from newsletter.analytics.models import ClickEvent
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueLink, IssueStatus, Post
from subscribers.audience import topic_cadences
from subscribers.models import Cadence, Status, Subscriber, SubscriberEvent, Suppression

# How many of the latest sent issues get a "why not?" answer, and how many deliveries are listed.
RECENT_ISSUES = 10
DELIVERIES = 200


@dataclass(frozen=True)
class Moment:
    """One line of the timeline, oldest first."""

    at: datetime
    kind: str  # signup, confirmed, change, unsubscribed, bounced, complained, delivery, ...
    text: str
    detail: str = ""


@dataclass(frozen=True)
class IssueAnswer:
    issue_id: int
    key: str
    subject: str
    sent_at: datetime | None
    received: bool
    sentence: str


@dataclass(frozen=True)
class Story:
    subscriber: Subscriber
    topics: list[str]
    suppression: Suppression | None
    moments: list[Moment]
    answers: list[IssueAnswer]
    # How often each of `topics` is heard about, by slug.
    cadences: dict[str, Cadence] = field(default_factory=dict)


def _as_utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; every instant here is stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _event_moment(event: SubscriberEvent, first: bool) -> Moment:
    how = f"{event.cause.value}" + (f": {event.detail}" if event.detail else "")
    where = f" from {event.client_address}" if event.client_address else ""
    if first:
        return Moment(event.at, "signup", f"Signed up ({how}){where}", event.to_status.value)
    if event.from_status == event.to_status:
        return Moment(event.at, "change", f"Changed ({how}){where}")
    kinds = {
        Status.ACTIVE: "confirmed",
        Status.PENDING: "pending",
        Status.UNSUBSCRIBED: "unsubscribed",
        Status.BOUNCED: "bounced",
        Status.COMPLAINED: "complained",
    }
    kind = kinds[event.to_status]
    return Moment(event.at, kind, f"{kind.capitalize()} ({how}){where}")


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _delivery_moment(delivery: Delivery, issue: Issue) -> Moment:
    reply = delivery.last_error or ""
    name = f"Issue {issue.key} “{issue.subject}”"
    match delivery.status:
        case DeliveryStatus.SENT:
            at = delivery.sent_at or delivery.created_at
            text = f"{name}: sent" + (f" as {delivery.message_id}" if delivery.message_id else "")
        case DeliveryStatus.DEFERRED:
            at = delivery.created_at
            text = f"{name}: still retrying after {_attempts(delivery.attempts)}"
        case DeliveryStatus.FAILED:
            at = delivery.created_at
            text = f"{name}: failed after {_attempts(delivery.attempts)}"
        case DeliveryStatus.SKIPPED:
            at = delivery.created_at
            text = f"{name}: skipped"
        case _:
            at = delivery.created_at
            text = f"{name}: planned, waiting to be sent"
    return Moment(at, "delivery", text, reply)


def _click_moments(session: Session, subscriber_id: int) -> list[Moment]:
    """Their clicks, kept only with analytics.per_subscriber and until retention folds them."""
    rows = session.execute(
        select(ClickEvent, Issue.key, IssueLink.kind, Post.title)
        .join(Issue, Issue.id == ClickEvent.issue_id)
        .join(
            IssueLink,
            (IssueLink.issue_id == ClickEvent.issue_id)
            & (IssueLink.position == ClickEvent.position),
        )
        .outerjoin(Post, Post.id == IssueLink.post_id)
        .where(ClickEvent.subscriber_id == subscriber_id)
        .order_by(ClickEvent.id.desc())
        .limit(DELIVERIES)
    ).all()
    moments = []
    for event, key, kind, title in rows:
        what = f"“{title}”" if title else f"the {kind} link"
        machine = "" if event.verdict == HUMAN else f" (counted as a machine: {event.verdict})"
        moments.append(Moment(event.at, "click", f"Clicked {what} in issue {key}{machine}"))
    return moments


def _status_at(events: list[SubscriberEvent], at: datetime) -> SubscriberEvent | None:
    """The last change of state at or before `at` (None: they had not signed up yet)."""
    last = None
    for event in events:
        if _as_utc(event.at) <= at:
            last = event
    return last


def why(
    issue: Issue,
    delivery: Delivery | None,
    events: list[SubscriberEvent],
    subscriber: Subscriber,
    suppression: Suppression | None = None,
) -> str:
    """One sentence, from the data, on whether and why this person got (or not) this issue."""
    if delivery is not None:
        reply = f" (last reply: {delivery.last_error})" if delivery.last_error else ""
        match delivery.status:
            case DeliveryStatus.SENT:
                sent = delivery.sent_at or delivery.created_at
                return f"Sent on {sent:%Y-%m-%d %H:%M} UTC; the server accepted it."
            case DeliveryStatus.DEFERRED:
                nxt = delivery.next_attempt_at
                when = f", next try {nxt:%Y-%m-%d %H:%M} UTC" if nxt else ""
                return f"Still retrying after {_attempts(delivery.attempts)}{when}{reply}."
            case DeliveryStatus.FAILED:
                return (
                    f"Bounced: the server refused it after {_attempts(delivery.attempts)}{reply}."
                )
            case DeliveryStatus.SKIPPED:
                because = delivery.last_error or "the issue had nothing for their topics"
                return f"Not sent: {because}."
            case _:
                return "Planned; still waiting in the queue to be sent."
    started = issue.sending_started_at or issue.sent_at
    if started is None:
        return "Not planned yet: the issue has not started sending."
    started = _as_utc(started)
    state = _status_at(events, started)
    if state is None and _as_utc(subscriber.created_at) > started:
        return f"Not eligible: they signed up after the issue was sent ({started:%Y-%m-%d})."
    if state is not None and state.to_status != Status.ACTIVE:
        how = f" ({state.cause.value}: {state.detail})" if state.detail else ""
        return (
            f"Not eligible: they were {state.to_status.value} when it was sent, "
            f"since {state.at:%Y-%m-%d}{how}."
        )
    paused = subscriber.paused_until
    if paused is not None and _as_utc(paused) > started:
        return f"Not eligible: paused until {paused:%Y-%m-%d} when it was sent."
    if suppression is not None and _as_utc(suppression.created_at) <= started:
        why_, since = suppression.reason.value, f"{suppression.created_at:%Y-%m-%d}"
        return f"Not eligible: the address is suppressed ({why_}) since {since}."
    return "Not planned: no delivery was recorded for them although they were active then."


def story(session: Session, subscriber_id: int) -> Story | None:
    """Everything that happened to one subscriber, oldest first, with the recent issues' answers."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    events = list(
        session.scalars(
            select(SubscriberEvent)
            .where(SubscriberEvent.subscriber_id == subscriber_id)
            .order_by(SubscriberEvent.id)
        )
    )
    moments = [_event_moment(event, index == 0) for index, event in enumerate(events)]
    planned = session.execute(
        select(Delivery, Issue)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.id.desc())
        .limit(DELIVERIES)
    ).all()
    by_issue: dict[int, Delivery] = {}
    for planned_one, issue in planned:
        by_issue[issue.id] = planned_one
        moments.append(_delivery_moment(planned_one, issue))
    moments.extend(_click_moments(session, subscriber_id))
    moments.sort(key=lambda moment: _as_utc(moment.at))
    recent = session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.SENT)
        .order_by(Issue.sent_at.desc(), Issue.id.desc())
        .limit(RECENT_ISSUES)
    )
    suppression = session.scalar(select(Suppression).where(Suppression.email == subscriber.email))
    answers = []
    for issue in recent:
        delivery = by_issue.get(issue.id)
        if delivery is None and len(planned) == DELIVERIES:  # older than the rows listed
            delivery = session.scalar(
                select(Delivery).where(
                    Delivery.issue_id == issue.id, Delivery.subscriber_id == subscriber_id
                )
            )
        received = delivery is not None and delivery.status == DeliveryStatus.SENT
        answers.append(
            IssueAnswer(
                issue.id,
                issue.key,
                issue.subject,
                issue.sent_at,
                received,
                why(issue, delivery, events, subscriber, suppression),
            )
        )
    cadences = topic_cadences(session, [subscriber.id]).get(subscriber.id, {})
    return Story(subscriber, sorted(cadences), suppression, moments, answers, cadences)


def origin_lines(origin: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The signup's recorded origin (page, referrer, utm_* tags) as label/value pairs."""
    if not origin:
        return []
    return [(str(key), str(value)[:500]) for key, value in sorted(origin.items())]


def _iso(at: datetime | None) -> str | None:
    return _as_utc(at).isoformat() if at is not None else None


def export(session: Session, subscriber_id: int) -> dict[str, Any] | None:
    """Everything stored about one person, as JSON-ready data (a GDPR/CCPA access request)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    events = session.scalars(
        select(SubscriberEvent)
        .where(SubscriberEvent.subscriber_id == subscriber_id)
        .order_by(SubscriberEvent.id)
    )
    deliveries = session.execute(
        select(Delivery, Issue.key, Issue.subject)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.id)
    )
    suppression = session.scalar(select(Suppression).where(Suppression.email == subscriber.email))
    chosen = topic_cadences(session, [subscriber.id]).get(subscriber.id, {})
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status.value,
        "topics": sorted(chosen),
        "cadences": {slug: cadence.value for slug, cadence in sorted(chosen.items())},
        "attributes": subscriber.attributes,
        "paused_until": _iso(subscriber.paused_until),
        "signed_up_at": _iso(subscriber.created_at),
        "confirmation_sent_at": _iso(subscriber.confirmation_sent_at),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "signup_source": subscriber.signup_source,
        "signup_origin": subscriber.signup_origin,
        "events": [
            {
                "at": _iso(event.at),
                "from": event.from_status.value if event.from_status else None,
                "to": event.to_status.value,
                "cause": event.cause.value,
                "detail": event.detail,
                "client_address": event.client_address,
            }
            for event in events
        ],
        "deliveries": [
            {
                "issue": key,
                "subject": subject,
                "status": delivery.status.value,
                "attempts": delivery.attempts,
                "sent_at": _iso(delivery.sent_at),
                "message_id": delivery.message_id,
                "smtp_reply": delivery.last_error,
            }
            for delivery, key, subject in deliveries
        ],
        "suppression": None
        if suppression is None
        else {
            "reason": suppression.reason.value,
            "detail": suppression.detail,
            "since": _iso(suppression.created_at),
        },
    }
