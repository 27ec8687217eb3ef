"""Returned mail: DSNs and other bounces (flufl.bounce), ARF complaints, mailto unsubscribes.

classify() is pure (a message in, a finding out); process_mailbox() applies findings to
subscribers and marks each handled message as read, so a second run counts nothing twice.
"""

from __future__ import annotations

import enum
import mailbox
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

from flufl.bounce import all_failures
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.verp import parse_verp, verp_matches
from newsletter.errors import BounceError
from newsletter.runtime import Runtime
from subscribers.lifecycle import ALLOWED, suppress, transition
from subscribers.models import Cause, Status, Subscriber

_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Return-Path")
_OUR_MESSAGE_ID = re.compile(r"<(\d+)\.(\d+)\.[0-9a-f]{12}@")


class Kind(enum.StrEnum):
    HARD = "hard bounce"
    SOFT = "soft bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    NOT_A_BOUNCE = "not a bounce"


@dataclass(frozen=True)
class Finding:
    kind: Kind
    # Who it is about: a VERP-named subscriber (id, tag, prefix) and/or bare addresses.
    verp: tuple[str, int, str] | None = None
    addresses: frozenset[str] = frozenset()
    subscriber_id: int | None = None  # from our Message-ID in a complaint's copy


def _verp_of(message: Message) -> tuple[str, int, str] | None:
    for header in _ADDRESS_HEADERS:
        for _, address in getaddresses(message.get_all(header, [])):
            found = parse_verp(address)
            if found is not None:
                return found
    return None


def _complaint(message: Message) -> Finding | None:
    if message.get_content_type() != "multipart/report":
        return None
    if message.get_param("report-type", "").lower() != "feedback-report":  # type: ignore[union-attr]
        return None
    addresses: set[str] = set()
    subscriber_id: int | None = None
    verp = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            payload = part.get_payload()
            first = payload[0] if isinstance(payload, list) and payload else payload
            text = first.as_string() if isinstance(first, Message) else str(first)
            for line in text.splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() in ("original-rcpt-to", "removal-recipient"):
                    addresses.add(value.strip().strip("<>").lower())
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(original, Message):
                verp = verp or _verp_of(original)
                match = _OUR_MESSAGE_ID.search(original.get("Message-ID", ""))
                if match:
                    subscriber_id = int(match.group(2))
                addresses.update(a.lower() for _, a in getaddresses(original.get_all("To", [])))
    return Finding(Kind.COMPLAINT, verp, frozenset(a for a in addresses if a), subscriber_id)


def classify(message: Message) -> Finding:
    """What one returned message says, and about whom."""
    complaint = _complaint(message)
    if complaint is not None:
        return complaint
    verp = _verp_of(message)
    if verp is not None and verp[0] == "unsubscribe":
        return Finding(Kind.UNSUBSCRIBE, verp)
    temporary, permanent = all_failures(message)
    if permanent:
        return Finding(Kind.HARD, verp, frozenset(a.decode().lower() for a in permanent))
    if temporary:
        return Finding(Kind.SOFT, verp, frozenset(a.decode().lower() for a in temporary))
    return Finding(Kind.NOT_A_BOUNCE, verp)


@dataclass
class BounceReport:
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    already_processed: int = 0
    # Messages left alone: not bounces, or bounces naming nobody we know.
    left_alone: list[str] = field(default_factory=list)


def _subscribers(session: Session, secret: str, finding: Finding) -> list[Subscriber]:
    if finding.verp is not None:
        prefix, subscriber_id, tag = finding.verp
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None and verp_matches(
            secret, prefix, subscriber_id, tag, subscriber.email
        ):
            return [subscriber]
    if finding.subscriber_id is not None:
        subscriber = session.get(Subscriber, finding.subscriber_id)
        if subscriber is not None and (
            not finding.addresses or subscriber.email.lower() in finding.addresses
        ):
            return [subscriber]
    if finding.addresses:
        return list(
            session.scalars(select(Subscriber).where(Subscriber.email.in_(finding.addresses)))
        )
    return []


def apply(
    session: Session,
    finding: Finding,
    subscribers: list[Subscriber],
    now: datetime,
    soft_limit: int,
    detail: str,
) -> None:
    """Mark each subscriber as the finding says; a complaint suppresses whatever the state."""
    for subscriber in subscribers:
        if finding.kind == Kind.COMPLAINT:
            if Status.COMPLAINED in ALLOWED[subscriber.status]:
                transition(session, subscriber, Status.COMPLAINED, Cause.COMPLAINT, now, detail)
            else:
                suppress(session, subscriber.email, Cause.COMPLAINT, now, detail)
        elif finding.kind == Kind.UNSUBSCRIBE:
            if Status.UNSUBSCRIBED in ALLOWED[subscriber.status]:
                transition(session, subscriber, Status.UNSUBSCRIBED, Cause.LINK, now, detail)
        elif finding.kind == Kind.SOFT:
            subscriber.soft_bounces += 1
            subscriber.updated_at = now
            if (
                subscriber.soft_bounces >= soft_limit
                and Status.BOUNCED in ALLOWED[subscriber.status]
            ):
                transition(
                    session,
                    subscriber,
                    Status.BOUNCED,
                    Cause.BOUNCE,
                    now,
                    f"{subscriber.soft_bounces} soft bounces; last: {detail}",
                )
        elif finding.kind == Kind.HARD and Status.BOUNCED in ALLOWED[subscriber.status]:
            transition(session, subscriber, Status.BOUNCED, Cause.BOUNCE, now, detail)


def open_mailbox(path: Path) -> mailbox.Mailbox:
    if path.is_dir():
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise BounceError(f"{path}: a folder, but not a maildir (no cur/ and new/ inside)")
        return mailbox.Maildir(path, factory=None, create=False)
    if path.is_file():
        return mailbox.mbox(path, create=False)
    raise BounceError(f"{path}: no such maildir or mbox file")


def _describe(message: Message) -> str:
    sender = message.get("From", "unknown sender")
    subject = message.get("Subject", "(no subject)")
    return f"from {sender}: {subject}"


def process_mailbox(
    sessions: sessionmaker[Session], secret: str, path: Path, now: datetime, soft_limit: int
) -> BounceReport:
    """Apply every unread bounce in a maildir or mbox; each handled one is marked read."""
    box = open_mailbox(path)
    report = BounceReport()
    box.lock()
    try:
        for key in list(box.keys()):
            message = box[key]
            assert isinstance(message, mailbox.MaildirMessage | mailbox.mboxMessage)
            seen = "S" if isinstance(message, mailbox.MaildirMessage) else "R"
            if seen in message.get_flags():
                report.already_processed += 1
                continue
            finding = classify(message)
            if finding.kind == Kind.NOT_A_BOUNCE:
                report.left_alone.append(f"not a bounce, {_describe(message)}")
                continue
            with sessions.begin() as session:
                subscribers = _subscribers(session, secret, finding)
                if not subscribers:
                    report.left_alone.append(
                        f"{finding.kind.value} naming no subscriber, {_describe(message)}"
                    )
                    continue
                apply(session, finding, subscribers, now, soft_limit, _describe(message))
            counter = {
                Kind.HARD: "hard",
                Kind.SOFT: "soft",
                Kind.COMPLAINT: "complaints",
                Kind.UNSUBSCRIBE: "unsubscribes",
            }[finding.kind]
            setattr(report, counter, getattr(report, counter) + 1)
            message.add_flag(seen)
            box[key] = message
        box.flush()
    finally:
        box.unlock()
        box.close()
    return report


def process_with_settings(runtime: Runtime, path: Path) -> BounceReport:
    """process_mailbox with the service's signing key, clock and soft-bounce limit."""
    return process_mailbox(
        runtime.sessions,
        runtime.settings.signing_key(),
        path,
        runtime.clock.now(),
        runtime.settings.delivery.soft_bounce_limit,
    )
