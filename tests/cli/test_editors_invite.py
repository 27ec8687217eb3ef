"""`newsletter editors invite`, `role`, `reset-two-factor`: the functions the admin calls."""

from __future__ import annotations

import email
import sqlite3
from email import policy
from pathlib import Path

from tests.cli.process import run


def test_invite_mails_a_link_and_role_changes_it(tmp_path: Path) -> None:
    env = {
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}",
        "NEWSLETTER_VAR_DIR": str(tmp_path / "var"),
    }
    assert run("init", env=env).returncode == 0
    invited = run("editors", "invite", "New@Example.org", "--role", "publisher", env=env)
    assert invited.returncode == 0, invited.stderr
    assert "invitation mailed to new@example.org" in invited.stdout
    [path] = list((tmp_path / "var").rglob("*.eml"))
    mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = mail.get_body(("plain",))
    assert body is not None
    assert "/admin/set-password?token=" in body.get_content()
    # The link is a credential: the command never prints it.
    assert "token=" not in invited.stdout + invited.stderr
    listed = run("editors", "list", env=env)
    assert "invited" in listed.stdout
    assert "publisher" in listed.stdout
    demoted = run("editors", "role", "new@example.org", "editor", env=env)
    assert demoted.returncode == 0, demoted.stderr
    assert "new@example.org is now editor" in demoted.stdout
    again = run("editors", "invite", "new@example.org", env=env)
    assert again.returncode == 0  # still invited: a new link replaces the old one
    assert len(list((tmp_path / "var").rglob("*.eml"))) == 2


def test_reset_two_factor_lets_the_password_alone_sign_in(tmp_path: Path) -> None:
    database = tmp_path / "n.db"
    env = {"NEWSLETTER_DATABASE_URL": f"sqlite:///{database}"}
    assert run("init", env=env).returncode == 0
    assert run("editors", "add", "ed@example.org", env=env).returncode == 0
    with sqlite3.connect(database) as db:
        db.execute("UPDATE editors SET totp_secret = 'JBSWY3DPEHPK3PXP'")
        db.execute("INSERT INTO editor_recovery_codes (editor_id, code_hash) VALUES (1, 'x')")
    reset = run("editors", "reset-two-factor", "ED@example.org", env=env)
    assert reset.returncode == 0, reset.stderr
    assert "two-factor sign-in is off for ed@example.org" in reset.stdout
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT totp_secret FROM editors").fetchall() == [(None,)]
        assert db.execute("SELECT count(*) FROM editor_recovery_codes").fetchone() == (0,)
    missing = run("editors", "reset-two-factor", "nobody@example.org", env=env)
    assert missing.returncode == 1
