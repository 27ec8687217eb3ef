"""Returned mail: DSNs and other bounces (flufl.bounce), ARF complaints, mailto unsubscribes.

classify() is pure (a message in, a finding out); process_mailbox() applies findings to
subscribers and marks each handled message as read, so a second run counts nothing twice.
A finding acts only on the subscriber a verified VERP tag or our signed Message-ID names: the
addresses in a DSN or ARF body are anyone's to write, so a bounce naming only those is reported
as unattributed and changes nothing.
"""

from __future__ import annotations

import enum
import mailbox
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from pathlib import Path

from flufl.bounce import all_failures
from sqlalchemy.orm import Session, sessionmaker

from newsletter.deliver.msgid import MessageIds
from newsletter.deliver.verp import parse_verp, verp_matches
from newsletter.errors import BounceError
from newsletter.runtime import Runtime
from subscribers.lifecycle import ALLOWED, suppress, transition
from subscribers.models import Cause, Status, Subscriber

_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Return-Path")
_ORIGINAL_PARTS = ("message/rfc822", "text/rfc822-headers")
# How many of the addresses a message names are shown in a report line.
_SHOWN = 3
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Kind(enum.StrEnum):
    HARD = "hard bounce"
    SOFT = "soft bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    NOT_A_BOUNCE = "not a bounce"


@dataclass(frozen=True)
class Finding:
    kind: Kind
    # Who it is about, as only we could have written it: the VERP address (prefix, id, tag) it
    # came back to, or the Message-ID of our message it quotes.
    verp: tuple[str, int, str] | None = None
    # Addresses the body names: anyone can write these, so they only go into the report.
    addresses: frozenset[str] = frozenset()
    message_id: str | None = None
    # Reported by a relay's authenticated webhook about the message it carried, rather than
    # mailed back to us: then our Message-ID names the subscriber of an unsubscribe too.
    relayed: bool = False


def _verp_of(message: Message) -> tuple[str, int, str] | None:
    for header in _ADDRESS_HEADERS:
        for _, address in getaddresses(message.get_all(header, [])):
            found = parse_verp(address)
            if found is not None:
                return found
    return None


def _originals(message: Message) -> list[Message]:
    """The headers of the message a DSN or ARF report quotes (message/rfc822 or headers only)."""
    found: list[Message] = []
    for part in message.walk():
        if part.get_content_type() not in _ORIGINAL_PARTS:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            found.extend(item for item in payload if isinstance(item, Message))
        elif isinstance(payload, str):
            found.append(HeaderParser().parsestr(payload, headersonly=True))
    return found


def quoted_message_id(message: Message) -> str | None:
    """The Message-ID of the message a DSN or ARF report quotes, if it quotes one."""
    return _quoted_message_id(_originals(message))


def _quoted_message_id(originals: list[Message]) -> str | None:
    for original in originals:
        value = original.get("Message-ID")
        if value:
            return str(value)
    return None


def _complaint(message: Message) -> Finding | None:
    if message.get_content_type() != "multipart/report":
        return None
    if message.get_param("report-type", "").lower() != "feedback-report":  # type: ignore[union-attr]
        return None
    addresses: set[str] = set()
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            first = payload[0] if isinstance(payload, list) and payload else payload
            text = first.as_string() if isinstance(first, Message) else str(first)
            for line in text.splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() in ("original-rcpt-to", "removal-recipient"):
                    addresses.add(value.strip().strip("<>").lower())
    originals = _originals(message)
    verp = None
    for original in originals:
        verp = verp or _verp_of(original)
        addresses.update(a.lower() for _, a in getaddresses(original.get_all("To", [])))
    return Finding(
        Kind.COMPLAINT, verp, frozenset(a for a in addresses if a), _quoted_message_id(originals)
    )


def classify(message: Message) -> Finding:
    """What one returned message says, and about whom."""
    complaint = _complaint(message)
    if complaint is not None:
        return complaint
    verp = _verp_of(message)
    if verp is not None and verp[0] == "unsubscribe":
        return Finding(Kind.UNSUBSCRIBE, verp)
    if verp is None and str(message.get("Subject", "")).strip().lower() == "unsubscribe":
        # A List-Unsubscribe mailto that lost its signed address: reported, never acted on.
        return Finding(Kind.UNSUBSCRIBE)
    temporary, permanent = all_failures(message)
    quoted = _quoted_message_id(_originals(message))
    if permanent:
        return Finding(Kind.HARD, verp, frozenset(a.decode().lower() for a in permanent), quoted)
    if temporary:
        return Finding(Kind.SOFT, verp, frozenset(a.decode().lower() for a in temporary), quoted)
    return Finding(Kind.NOT_A_BOUNCE, verp)


@dataclass
class BounceReport:
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    already_processed: int = 0
    # Messages left alone: not bounces.
    left_alone: list[str] = field(default_factory=list)
    # Bounces, complaints and unsubscribes that no verified VERP tag or signed Message-ID ties
    # to a subscriber: nothing is changed for them, whatever addresses they name.
    unattributed: list[str] = field(default_factory=list)


def attribute(session: Session, secret: str | Sequence[str], finding: Finding) -> Subscriber | str:
    """The subscriber only we could have named in this finding, or why there is none.

    `secret` may list the current key and the previous ones, so that mail sent before a key
    rotation is still attributed when it comes back.
    """
    keys = (secret,) if isinstance(secret, str) else tuple(secret)
    reason = "no VERP tag or signed Message-ID of ours"
    if finding.verp is not None:
        prefix, subscriber_id, tag = finding.verp
        # A bounce address's tag never stands for an unsubscribe, nor the other way round.
        wanted = "unsubscribe" if finding.kind == Kind.UNSUBSCRIBE else "bounces"
        subscriber = session.get(Subscriber, subscriber_id)
        if (
            prefix == wanted
            and subscriber is not None
            and any(verp_matches(key, prefix, subscriber_id, tag, subscriber.email) for key in keys)
        ):
            return subscriber
        reason = "its VERP tag does not verify"
    if finding.message_id is not None and (finding.kind != Kind.UNSUBSCRIBE or finding.relayed):
        ids = next(
            (found for key in keys if (found := MessageIds(key).verify(finding.message_id))), None
        )
        subscriber = session.get(Subscriber, ids[1]) if ids is not None else None
        if subscriber is not None:
            return subscriber
        if finding.verp is None:
            reason = "the Message-ID it quotes is not one we signed"
    return reason


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


def settle(
    session: Session,
    secret: str | Sequence[str],
    finding: Finding,
    now: datetime,
    soft_limit: int,
    detail: str,
) -> Subscriber | str:
    """Attribute a finding and apply it: the one path for returned mail and relay webhooks.

    Returns the subscriber it changed, or why it changed nobody.
    """
    found = attribute(session, secret, finding)
    if not isinstance(found, str):
        apply(session, finding, [found], now, soft_limit, detail)
    return found


def open_mailbox(path: Path) -> mailbox.Mailbox:
    if path.is_dir():
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise BounceError(f"{path}: a folder, but not a maildir (no cur/ and new/ inside)")
        return mailbox.Maildir(path, factory=None, create=False)
    if path.is_file():
        return mailbox.mbox(path, create=False)
    raise BounceError(f"{path}: no such maildir or mbox file")


def _clean(text: str, limit: int = 120) -> str:
    """A header as one printable line: a forged bounce must not write to the terminal."""
    text = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(message: Message) -> str:
    sender = _clean(str(message.get("From", "unknown sender")))
    subject = _clean(str(message.get("Subject", "(no subject)")))
    return f"from {sender}: {subject}"


def _naming(finding: Finding) -> str:
    if not finding.addresses:
        return ""
    names = sorted(finding.addresses)
    shown = ", ".join(_clean(name, 80) for name in names[:_SHOWN])
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f" naming {shown}{more}"


def _file_as_read(box: mailbox.Mailbox, key: str, message: mailbox.MaildirMessage) -> None:
    """Seen, and in cur/: a maildir's new/ holds only mail no reader has opened, without flags."""
    message.set_subdir("cur")
    message.add_flag("S")
    box[key] = message


def handle(
    sessions: sessionmaker[Session],
    secret: str | Sequence[str],
    where: str,
    message: Message,
    now: datetime,
    soft_limit: int,
    report: BounceReport,
) -> bool:
    """Classify one returned message, apply it, count it; True when it is handled (mark it read).

    Messages that are not bounces, and bounces no signature of ours attributes, are reported
    and left unread, so an operator can look at them.
    """
    finding = classify(message)
    if finding.kind == Kind.NOT_A_BOUNCE:
        report.left_alone.append(f"not a bounce, {_describe(message)}")
        return False
    with sessions.begin() as session:
        found = settle(session, secret, finding, now, soft_limit, _describe(message))
    if isinstance(found, str):
        report.unattributed.append(
            f"{where}: {finding.kind.value}{_naming(finding)}, "
            f"{_describe(message)}: {found}; nothing changed"
        )
        return False
    counter = {
        Kind.HARD: "hard",
        Kind.SOFT: "soft",
        Kind.COMPLAINT: "complaints",
        Kind.UNSUBSCRIBE: "unsubscribes",
    }[finding.kind]
    setattr(report, counter, getattr(report, counter) + 1)
    return True


def process_mailbox(
    sessions: sessionmaker[Session],
    secret: str | Sequence[str],
    path: Path,
    now: datetime,
    soft_limit: int,
) -> BounceReport:
    """Apply every unread bounce in a maildir or mbox; each handled one is marked read.

    In a maildir a handled message moves from new/ to cur/ with the S flag, as a mail reader
    files one it has shown.

    Messages that are not bounces, and bounces no signature of ours attributes, stay unread
    and are reported, so an operator can look at them.
    """
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
                if isinstance(message, mailbox.MaildirMessage) and message.get_subdir() == "new":
                    _file_as_read(box, key, message)  # marked seen by a version that left it
                continue
            if not handle(sessions, secret, f"message {key}", message, now, soft_limit, report):
                continue
            if isinstance(message, mailbox.MaildirMessage):
                _file_as_read(box, key, message)
            else:
                message.add_flag(seen)
                box[key] = message
        box.flush()
    finally:
        box.unlock()
        box.close()
    return report


def process_with_settings(runtime: Runtime, source: str | Path) -> BounceReport:
    """The bounce mailbox (a maildir, an mbox or an IMAP URL) read with the service's signing
    keys, clock and soft-bounce limit."""
    keys, now = runtime.verification_keys, runtime.clock.now()
    limit = runtime.settings.delivery.soft_bounce_limit
    if isinstance(source, str) and is_imap_url(source):
        # imap-tools is loaded only for a mailbox on an IMAP server.
        from newsletter.deliver.imap_bounces import process_imap

        return process_imap(runtime.sessions, keys, source, now, limit)
    return process_mailbox(runtime.sessions, keys, Path(source), now, limit)


def is_imap_url(value: str) -> bool:
    return value.lower().startswith(("imap://", "imaps://"))
