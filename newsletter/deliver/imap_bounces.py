"""The bounce mailbox on an IMAP server (imaps://user:pass@host/INBOX), read with imap-tools.

Unread messages are read without marking them (BODY.PEEK); each one handled is then flagged
\\Seen, so a second run counts nothing twice, and the rest stay unread for an operator, as in
a maildir. imaps:// is TLS from the start (port 993); imap:// always upgrades with STARTTLS
(port 143): a mailbox password never crosses the network in clear.
"""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailMessageFlags
from imap_tools.errors import ImapToolsError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.checks import mask_credentials, mask_url
from newsletter.deliver.bounces import BounceReport, handle
from newsletter.errors import BounceError, first_line

# Messages read in one run at most; the rest wait for the next run (bounce_minutes later).
MAX_MESSAGES = 2000
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ImapMailbox:
    host: str
    port: int
    user: str
    password: str
    folder: str
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> ImapMailbox:
        """imaps://USER:PASS@HOST[:PORT]/FOLDER (user and password percent-encoded)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise BounceError(f"{mask_url(url)}: not an IMAP URL") from None
        scheme = parts.scheme.lower()
        if scheme not in ("imap", "imaps") or not parts.hostname:
            raise BounceError(f"{mask_url(url)}: use imaps://USER:PASS@HOST/FOLDER")
        if parts.username is None or parts.password is None:
            raise BounceError(f"{mask_url(url)}: the URL needs a user and a password")
        return cls(
            parts.hostname,
            port or (993 if scheme == "imaps" else 143),
            unquote(parts.username),
            unquote(parts.password),
            unquote(parts.path.lstrip("/")) or "INBOX",
            scheme == "imap",
        )


@contextmanager
def _logged_in(box: ImapMailbox, context: ssl.SSLContext | None) -> Iterator[BaseMailBox]:
    context = context or ssl.create_default_context()
    client: BaseMailBox
    if box.starttls:
        client = MailBoxStartTls(box.host, box.port, TIMEOUT_SECONDS, ssl_context=context)
    else:
        client = MailBox(box.host, box.port, TIMEOUT_SECONDS, ssl_context=context)
    with client.login(box.user, box.password, initial_folder=box.folder) as mailbox:
        yield mailbox


def process_imap(
    sessions: sessionmaker[Session],
    secret: str | Sequence[str],
    url: str,
    now: datetime,
    soft_limit: int,
    context: ssl.SSLContext | None = None,
) -> BounceReport:
    """Apply every unread bounce in the folder; each handled one is flagged \\Seen.

    `context` checks the server's certificate (the system's trusted ones by default).
    """
    box = ImapMailbox.from_url(url)
    report = BounceReport()
    try:
        with _logged_in(box, context) as mailbox:
            unread = mailbox.fetch(AND(seen=False), mark_seen=False, limit=MAX_MESSAGES)
            for message in unread:
                where = f"message {message.uid}"
                if handle(sessions, secret, where, message.obj, now, soft_limit, report):
                    # Flagged at once: a run that stops halfway has marked what it applied.
                    mailbox.flag(message.uid or "", MailMessageFlags.SEEN, True)
    except (ImapToolsError, imaplib.IMAP4.error, OSError) as exc:
        raise BounceError(f"{mask_url(url)}: {mask_credentials(first_line(exc))}") from None
    return report
