"""Mail to the editors: drafts to review, held or paused issues, sources in trouble, invites."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.deliver.transactional import from_templates
from newsletter.digest.sent import reader_subject
from newsletter.editors.invites import Invitation
from newsletter.editors.models import NO_PASSWORD, Editor
from newsletter.errors import DeliveryError
from newsletter.mail.transport import Transport
from newsletter.models import Issue
from newsletter.templating import environment

log = logging.getLogger(__name__)

# How tell_editors()'s answer starts when the mail could not be sent (already logged).
NOT_TOLD = "editors not told: "


def editor_addresses(session: Session) -> list[str]:
    # Invited editors who have not chosen a password yet are not told anything else.
    return list(
        session.scalars(
            select(Editor.email).where(Editor.active.is_(True), Editor.password_hash != NO_PASSWORD)
        )
    )


def local(when: datetime, settings: Settings) -> str:
    """A time as editors read it: "Fri 13 Mar 2026 10:00 EDT"."""
    return when.astimezone(settings.zone).strftime("%a %d %b %Y %H:%M %Z")


def build_notice(
    settings: Settings, action: str, to: Sequence[str], context: dict[str, Any], now: datetime
) -> EmailMessage:
    """A plain-text message from the `email/editors_<action>` templates."""
    context = {"site": settings.site, **context}
    return from_templates(
        settings,
        environment(settings),
        f"editors_{action}",
        to=to,
        context=context,
        now=now,
        kind=action,
        html=False,
    )


def _deliver(
    settings: Settings,
    transport_factory: Callable[[], Transport],
    to: Sequence[str],
    message: EmailMessage,
) -> None:
    transport = transport_factory()
    try:
        transport.send(settings.mail.from_address, list(to), message.as_bytes())
    finally:
        transport.close()


def tell_editors(
    session: Session,
    settings: Settings,
    transport_factory: Callable[[], Transport],
    action: str,
    issue: Issue,
    now: datetime,
    **context: Any,
) -> str:
    """Mail every active editor about an issue; a mail failure is logged and reported."""
    return mail_editors(
        session,
        settings,
        transport_factory,
        action,
        now,
        f"issue {issue.key}",
        issue=issue,
        subject=reader_subject(issue),
        preview_url=f"{settings.site.base_url}/admin/issues/{issue.id}",
        **context,
    )


def mail_editors(
    session: Session,
    settings: Settings,
    transport_factory: Callable[[], Transport],
    action: str,
    now: datetime,
    about: str,
    **context: Any,
) -> str:
    """Mail every active editor the `editors_<action>` templates; failures logged, never raised."""
    to = editor_addresses(session)
    if not to:
        return "no editor accounts to tell (newsletter editors add ADDRESS)"
    message = build_notice(settings, action, to, context, now)
    try:
        _deliver(settings, transport_factory, to, message)
    except DeliveryError as exc:
        # A refusal, an unreachable relay, an outbox that cannot be written (TransportFault):
        # nothing else changes, and this one warning says why nobody was told.
        log.warning("could not tell the editors about %s: %s", about, exc)
        return f"{NOT_TOLD}{exc}"
    return f"told {len(to)} editor{'s' if len(to) != 1 else ''}"


def mail_invitation(
    settings: Settings,
    transport_factory: Callable[[], Transport],
    invitation: Invitation,
    invited_by: str,
    now: datetime,
) -> str | None:
    """Mail the set-password link to the invited editor; the reason it failed, else None."""
    message = build_notice(
        settings,
        "invite",
        [invitation.email],
        {
            "link": invitation.link,
            "role": invitation.role.value,
            "invited_by": invited_by,
            "expires": local(invitation.expires_at, settings),
        },
        now,
    )
    try:
        _deliver(settings, transport_factory, [invitation.email], message)
    except DeliveryError as exc:
        # The link is a credential: the warning names the address, never the link.
        log.warning("could not mail the invitation to %s: %s", invitation.email, exc)
        return str(exc)
    return None
