"""Telling editors that a draft is ready for them, with a link to its preview."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.deliver.transport import Transport
from newsletter.editors.models import Editor
from newsletter.errors import DeliveryError
from newsletter.models import Issue
from newsletter.runtime import Runtime
from newsletter.templating import environment

log = logging.getLogger(__name__)


def draft_ready(runtime: Runtime, issue_id: int, transport: Transport) -> list[str]:
    """Mail every active editor a link to the draft's preview; returns who was told.

    A mail failure is logged and never undoes the build: the draft is there either way.
    """
    settings = runtime.settings
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            return []
        recipients = _editors(session)
        context = {
            "issue": issue,
            "site": settings.site,
            "preview_url": f"{settings.site.base_url}/admin/issues/{issue.id}",
            "posts": sum(1 for entry in issue.posts if not entry.excluded),
            "send_slot": settings.digest.send,
        }
    env = environment(settings)
    subject = env.get_template("email/draft_ready_subject.txt").render(context).strip()
    text = env.get_template("email/draft_ready.txt").render(context)
    html = env.get_template("email/draft_ready.html").render(context)
    told: list[str] = []
    for address in recipients:
        message = EmailMessage()
        message["From"] = formataddr((settings.mail.from_name, settings.mail.from_address))
        message["To"] = address
        message["Subject"] = subject
        message["Date"] = format_datetime(runtime.clock.now())
        message["Message-ID"] = make_msgid(domain=settings.mail.from_address.rpartition("@")[2])
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        try:
            transport.send(settings.mail.from_address, [address], message.as_bytes(policy=SMTP))
        except DeliveryError as exc:
            log.warning("could not tell %s about draft %s: %s", address, issue_id, exc)
            continue
        told.append(address)
    return told


def _editors(session: Session) -> list[str]:
    return list(session.scalars(select(Editor.email).where(Editor.active).order_by(Editor.email)))
