"""One-off mail from the site (confirmations, editors' notices): the headers they all carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from jinja2 import Environment

from newsletter.config import Settings


def transactional(
    settings: Settings,
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    now: datetime,
) -> EmailMessage:
    """From the site's sender to `to`: plain text, and an HTML alternative when `html` is given.

    `kind` starts the Message-ID ("confirm", "ready"...), so a bounce or a log names the mail.
    """
    # The SMTP policy: CRLF line ends, as the wire (and the transport) expects.
    message = EmailMessage(policy=policy.SMTP)
    # One line, whatever the template did: a header never carries a line break.
    message["Subject"] = " ".join(subject.split())
    message["From"] = formataddr((settings.mail.from_name, settings.mail.from_address))
    message["To"] = ", ".join(to)
    if settings.mail.reply_to:
        message["Reply-To"] = settings.mail.reply_to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(kind, domain=settings.mail.from_address.split("@")[-1])
    # Not a person writing: vacation responders and the like stay quiet (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def from_templates(
    settings: Settings,
    templates: Environment,
    name: str,
    *,
    to: Sequence[str],
    context: dict[str, Any],
    now: datetime,
    kind: str | None = None,
    html: bool = True,
) -> EmailMessage:
    """transactional() from `email/<name>_subject.txt`, `<name>.txt` and (with html) `<name>.html`.

    `kind` starts the Message-ID; the template name by default.
    """
    part = f"email/{name}"
    return transactional(
        settings,
        kind=kind or name,
        to=to,
        subject=templates.get_template(f"{part}_subject.txt").render(context),
        text=templates.get_template(f"{part}.txt").render(context),
        html=templates.get_template(f"{part}.html").render(context) if html else None,
        now=now,
    )
