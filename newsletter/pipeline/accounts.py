"""accounts: inviting an editor (the account and its link, then the mail), for the CLI and admin."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.editors.invites import Invitation, invite_editor
from newsletter.editors.models import Role
from newsletter.editors.notify import mail_invitation
from newsletter.runtime import Runtime

# Who invited, when it was the command line.
OPERATOR = "The site's operator"


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    # Why the mail could not be sent (the account is invited all the same), else None.
    failed: str | None


def invite(runtime: Runtime, email: str, role: Role, invited_by: str) -> Invited:
    """Invite (or invite again) and mail the link; AccountError when the address cannot be."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        invitation = invite_editor(
            session,
            email,
            role,
            now,
            secret=runtime.signing_key,
            base_url=runtime.settings.site.base_url,
        )
    failed = mail_invitation(runtime.settings, runtime.transport, invitation, invited_by, now)
    return Invited(invitation, failed)
