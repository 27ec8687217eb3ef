"""The double opt-in email: built from templates, sent at most once per interval per address."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.deliver.transport import Transport
from newsletter.errors import DeliveryError
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.links import link
from subscribers.models import Subscriber, SubscriberTopic
from subscribers.signup import claim_confirmation, release_confirmation
from subscribers.tokens import Purpose

log = logging.getLogger(__name__)


def build_confirmation(
    settings: Settings,
    templates: Environment,
    *,
    to: str,
    name: str,
    confirm_url: str,
    topics: list[str],
    now: datetime,
) -> EmailMessage:
    """A multipart text + HTML message; the name is the only text the subscriber supplied."""
    context = {
        "site": settings.site,
        "organization": settings.organization,
        "name": name,
        "confirm_url": confirm_url,
        "topics": topics,
        "max_age_days": settings.subscribers.confirmation_max_age_days,
    }
    subject = templates.get_template("email/confirm_subject.txt").render(context)
    # The SMTP policy: CRLF line ends, as the wire (and the transport) expects.
    message = EmailMessage(policy=policy.SMTP)
    # One line, whatever the template did: a header never carries a line break.
    message["Subject"] = " ".join(subject.split())
    message["From"] = formataddr((settings.mail.from_name, settings.mail.from_address))
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("confirm", domain=settings.mail.from_address.split("@")[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(templates.get_template("email/confirm.txt").render(context))
    message.add_alternative(
        templates.get_template("email/confirm.html").render(context), subtype="html"
    )
    return message


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    # Already mailed within the resend interval, or no longer pending.
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def _topic_names(session: Session, subscriber_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Topic.name)
            .join(SubscriberTopic, SubscriberTopic.topic_id == Topic.id)
            .where(SubscriberTopic.subscriber_id == subscriber_id)
            .order_by(Topic.name)
        )
    )


def send_confirmations(
    runtime: Runtime, templates: Environment, transport: Transport, subscriber_ids: list[int]
) -> SendReport:
    """Mail each pending subscriber its confirmation link, at most once per resend interval.

    The send time is claimed (and committed) before the email goes out, so that concurrent
    signups send one email; a failed send gives the claim back and is logged. The subscriber
    stays stored as pending either way: nothing the visitor typed is lost.
    """
    settings = runtime.settings
    interval = timedelta(hours=settings.subscribers.confirmation_resend_hours)
    secret = settings.signing_key()
    report = SendReport()
    for subscriber_id in subscriber_ids:
        now = runtime.clock.now()
        with runtime.sessions.begin() as session:
            claim = claim_confirmation(session, subscriber_id, now, interval)
            subscriber = session.get(Subscriber, subscriber_id) if claim.granted else None
            if subscriber is None:
                report.skipped.append(subscriber_id)
                continue
            url = link(
                settings.site.base_url,
                secret,
                Purpose.CONFIRM,
                subscriber.id,
                subscriber.email,
                now,
            )
            message = build_confirmation(
                settings,
                templates,
                to=subscriber.email,
                name=subscriber.name,
                confirm_url=url,
                topics=_topic_names(session, subscriber.id),
                now=now,
            )
            email = subscriber.email
        try:
            transport.send(settings.mail.from_address, [email], message.as_bytes())
        except DeliveryError as exc:
            log.error(
                "confirmation email to subscriber %s (%s) failed: %s", subscriber_id, email, exc
            )
            with runtime.sessions.begin() as session:
                release_confirmation(session, subscriber_id, claim.previous)
            report.failed[subscriber_id] = str(exc)
            continue
        report.sent.append(subscriber_id)
    return report
