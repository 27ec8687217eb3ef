"""The welcome email a reader gets once they confirm: their topics, the latest issue, donating."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from jinja2 import Environment
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.catalog import topic_names
from newsletter.config import Settings
from newsletter.deliver.transactional import from_templates
from newsletter.digest.sent import latest_sent, reader_subject
from newsletter.errors import NewsletterError, PermanentFailure, first_line
from newsletter.mail.transport import Transport
from newsletter.runtime import Runtime
from subscribers.audience import topic_cadences
from subscribers.cadence_sentence import what_they_get
from subscribers.links import link
from subscribers.models import Cadence, Status, Subscriber
from subscribers.tokens import Purpose

log = logging.getLogger(__name__)

# One welcome is being sent this long; a process that stopped mid-send leaves it to the next.
LEASE = timedelta(minutes=10)
# A welcome that could not go out within this long after confirming is no longer a welcome.
GIVE_UP_AFTER = timedelta(days=2)
BATCH = 100


@dataclass(frozen=True)
class Latest:
    subject: str
    url: str


@dataclass
class WelcomeReport:
    sent: int = 0
    retrying: int = 0
    dropped: int = 0


def welcome_context(
    settings: Settings, session: Session, subscriber: Subscriber, secret: str, now: datetime
) -> dict[str, Any]:
    """What the welcome templates get: the reader's own name, topics and cadences, their links."""
    base = settings.site.base_url
    chosen = chosen_topics(session, subscriber.id)
    return {
        "site": settings.site,
        "organization": settings.organization,
        "name": subscriber.name,
        "topics": [name for name, _ in chosen],
        "how_often": what_they_get(chosen, settings.digest.daily_send_time),
        "preferences_url": link(
            base, secret, Purpose.PREFERENCES, subscriber.id, subscriber.email, now
        ),
        "unsubscribe_url": link(
            base, secret, Purpose.UNSUBSCRIBE, subscriber.id, subscriber.email, now
        ),
        "latest": latest_issue(session, base),
    }


def chosen_topics(session: Session, subscriber_id: int) -> list[tuple[str, Cadence]]:
    """The reader's topics by name (in slug order) with how often; [] for every topic, weekly."""
    theirs = topic_cadences(session, [subscriber_id]).get(subscriber_id, {})
    names = topic_names(session)
    return [(names.get(slug, slug), theirs[slug]) for slug in sorted(theirs)]


def latest_issue(session: Session, base_url: str) -> Latest | None:
    """The archive's newest issue with the subject readers got, for "catch up" links."""
    issue = latest_sent(session)
    if issue is None:
        return None
    return Latest(reader_subject(issue) or issue.key, f"{base_url}/archive/{issue.key}")


def build_welcome(
    settings: Settings, templates: Environment, to: str, context: dict[str, Any], now: datetime
) -> EmailMessage:
    """The welcome (text and HTML), with the one-click unsubscribe headers every list mail has."""
    message = from_templates(settings, templates, "welcome", to=[to], context=context, now=now)
    # A token URL has no space to fold at: with the 78-column default the email package would
    # RFC 2047-encode it, which no mail client reads as a List-Unsubscribe URL (RFC 5322: 998).
    message.policy = message.policy.clone(max_line_length=998)
    unsubscribe = context["unsubscribe_url"]
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    if unsubscribe.startswith("https://"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: https only
    return message


def drain_welcomes(
    runtime: Runtime,
    templates: Environment,
    transport_factory: Callable[[], Transport],
    stop: threading.Event | None = None,
) -> WelcomeReport:
    """Mail every welcome that is due, each once: leased by one UPDATE, cleared when sent."""
    report = WelcomeReport()
    now = runtime.clock.now()
    with runtime.sessions() as session:
        due = list(
            session.scalars(
                select(Subscriber.id)
                .where(Subscriber.welcome_due_at <= now)
                .order_by(Subscriber.welcome_due_at, Subscriber.id)
                .limit(BATCH)
            )
        )
    if not due:
        return report
    transport = transport_factory()
    try:
        for subscriber_id in due:
            if stop is not None and stop.is_set():
                break
            _welcome(runtime, templates, transport, subscriber_id, report)
    finally:
        transport.close()
    return report


def _welcome(
    runtime: Runtime,
    templates: Environment,
    transport: Transport,
    subscriber_id: int,
    report: WelcomeReport,
) -> None:
    settings = runtime.settings
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        taken = session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id, Subscriber.welcome_due_at <= now)
            .values(welcome_due_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return  # another process has it
        subscriber = session.get(Subscriber, subscriber_id, populate_existing=True)
        assert subscriber is not None
        confirmed = subscriber.confirmed_at or now
        if (
            not settings.subscribers.welcome_email
            or subscriber.status != Status.ACTIVE
            or now - confirmed > GIVE_UP_AFTER
        ):
            subscriber.welcome_due_at = None
            report.dropped += 1
            return
        context = welcome_context(settings, session, subscriber, runtime.signing_key, now)
        message = build_welcome(settings, templates, subscriber.email, context, now)
        email = subscriber.email
    try:
        transport.send(settings.mail.from_address, [email], message.as_bytes())
    except (OSError, NewsletterError) as exc:
        why = first_line(exc)
        if isinstance(exc, PermanentFailure):
            _clear(runtime, subscriber_id)
            report.dropped += 1
            log.error("welcome email to subscriber %s refused for good: %s", subscriber_id, why)
        else:
            report.retrying += 1  # the lease runs out and the next drain tries again
            log.warning("welcome email to subscriber %s failed, retrying: %s", subscriber_id, why)
        return
    _clear(runtime, subscriber_id)
    report.sent += 1


def _clear(runtime: Runtime, subscriber_id: int) -> None:
    with runtime.sessions.begin() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None:
            subscriber.welcome_due_at = None
