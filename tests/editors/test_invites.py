"""Invitations: a signed set-password link that works once, until it expires; roles; disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.editors.accounts import (
    AccountError,
    Verifier,
    add_editor,
    authenticate,
    change_role,
    disable_editor,
    find_editor,
)
from newsletter.editors.invites import (
    InviteError,
    accept_invitation,
    invite_editor,
    invited_editor,
)
from newsletter.editors.models import Role
from newsletter.runtime import Runtime

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
VERIFIER = Verifier(2, 5.0)
KEY = "k" * 32


def _invite(runtime: Runtime, email: str = "New@Example.org", role: Role = Role.EDITOR) -> str:
    with runtime.sessions.begin() as session:
        invitation = invite_editor(
            session, email, role, NOW, secret=KEY, base_url="https://news.example.org"
        )
    assert invitation.link.startswith("https://news.example.org/admin/set-password?token=")
    assert invitation.expires_at == NOW + timedelta(hours=72)
    return invitation.link.split("token=", 1)[1]


def test_an_invited_editor_cannot_sign_in_until_the_link_sets_a_password(
    runtime: Runtime,
) -> None:
    token = _invite(runtime)
    with runtime.sessions.begin() as session:
        editor = find_editor(session, "new@example.org")
        assert (editor.status, editor.role) == ("invited", Role.EDITOR)
        assert token.split(".")[1] not in (editor.invite_digest or "")  # only a hash is kept
        assert authenticate(session, "new@example.org", "!invited", NOW, VERIFIER) is None
    with runtime.sessions.begin() as session:
        accepted = accept_invitation(session, token, PASSWORD, NOW + timedelta(hours=1), [KEY])
        assert accepted.status == "active"
    with runtime.sessions.begin() as session:
        assert authenticate(session, "new@example.org", PASSWORD, NOW, VERIFIER) is not None


def test_the_link_works_once(runtime: Runtime) -> None:
    token = _invite(runtime)
    with runtime.sessions.begin() as session:
        accept_invitation(session, token, PASSWORD, NOW, [KEY])
    with runtime.sessions.begin() as session, pytest.raises(InviteError, match="used already"):
        accept_invitation(session, token, "another long password", NOW, [KEY])


def test_the_link_expires(runtime: Runtime) -> None:
    token = _invite(runtime)
    with runtime.sessions() as session:
        invited_editor(session, token, NOW + timedelta(hours=71, minutes=59), [KEY])
        with pytest.raises(InviteError, match="expired"):
            invited_editor(session, token, NOW + timedelta(hours=72), [KEY])


def test_a_new_invitation_replaces_the_old_link(runtime: Runtime) -> None:
    first = _invite(runtime)
    second = _invite(runtime)
    with runtime.sessions() as session:
        with pytest.raises(InviteError):
            invited_editor(session, first, NOW, [KEY])
        invited_editor(session, second, NOW, [KEY])


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "x" * 5000, "WzEsIm5vbmNlIl0.forged-signature"],
)
def test_forged_or_hostile_tokens_are_refused(runtime: Runtime, token: str) -> None:
    real = _invite(runtime)
    with runtime.sessions() as session:
        with pytest.raises(InviteError, match="not valid"):
            invited_editor(session, token, NOW, [KEY])
        with pytest.raises(InviteError, match="not valid"):
            invited_editor(session, real, NOW, ["another key entirely, 32 chars!"])
        # A rotated-out key still verifies links it signed.
        invited_editor(session, real, NOW, ["the current key, 32 characters!!", KEY])


def test_a_short_password_leaves_the_link_usable(runtime: Runtime) -> None:
    token = _invite(runtime)
    with runtime.sessions.begin() as session, pytest.raises(AccountError, match="at least 12"):
        accept_invitation(session, token, "short", NOW, [KEY])
    with runtime.sessions() as session:
        invited_editor(session, token, NOW, [KEY])


def test_an_active_account_is_not_invited_again_but_a_disabled_one_is(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        add_editor(session, "ed@example.org", PASSWORD, Role.EDITOR, NOW)
    with runtime.sessions.begin() as session, pytest.raises(AccountError, match="already"):
        invite_editor(session, "ed@example.org", Role.EDITOR, NOW, secret=KEY, base_url="")
    with runtime.sessions.begin() as session:
        version = disable_editor(session, "ed@example.org").session_version
    token = _invite(runtime, "ed@example.org", Role.PUBLISHER)
    with runtime.sessions.begin() as session:
        editor = find_editor(session, "ed@example.org")
        assert (editor.status, editor.role) == ("invited", Role.PUBLISHER)
        assert editor.session_version > version
        # The old password is gone with the re-invitation.
        assert authenticate(session, "ed@example.org", PASSWORD, NOW, VERIFIER) is None
        accept_invitation(session, token, "a brand new password", NOW, [KEY])


def test_disabling_spends_a_pending_link(runtime: Runtime) -> None:
    token = _invite(runtime)
    with runtime.sessions.begin() as session:
        disable_editor(session, "new@example.org")
    with runtime.sessions() as session, pytest.raises(InviteError):
        invited_editor(session, token, NOW, [KEY])


def test_roles_change_and_nobody_demotes_or_disables_themselves(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        me = add_editor(session, "pub@example.org", PASSWORD, Role.PUBLISHER, NOW)
        add_editor(session, "ed@example.org", PASSWORD, Role.EDITOR, NOW)
        session.flush()
        my_id = me.id
    with runtime.sessions.begin() as session:
        assert change_role(session, "ED@example.org", Role.PUBLISHER, by=my_id).can_publish
        with pytest.raises(AccountError, match="your own"):
            change_role(session, "pub@example.org", Role.EDITOR, by=my_id)
        with pytest.raises(AccountError, match="your own"):
            disable_editor(session, "pub@example.org", by=my_id)
        with pytest.raises(AccountError, match="no editor"):
            change_role(session, "nobody@example.org", Role.EDITOR, by=my_id)
