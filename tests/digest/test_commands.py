"""`newsletter digest build` and `digest preview` as a user runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from newsletter.editors.models import Role
from newsletter.models import Issue
from newsletter.runtime import Runtime
from tests.digest.helpers import add_post, add_topics
from tests.test_cli import run
from tests.web.admin_helpers import make_editor


def test_build_says_when_there_is_nothing_new(runtime: Runtime, database_url: str) -> None:
    result = run("digest", "build", env={"NEWSLETTER_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "nothing new to send; no issue built" in result.stdout
    with runtime.sessions() as session:
        assert session.scalars(select(Issue)).all() == []


def test_build_then_preview(runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, now)
        add_post(session, "fresh-story", now - timedelta(days=1), [topics["asylum"]], image=True)
    env = {"NEWSLETTER_DATABASE_URL": database_url, "NEWSLETTER_SITE_URL": "https://n.example.org"}
    built = run("digest", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "built draft " in built.stdout
    assert "1 posts, 1 variant" in built.stdout
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    printed = run("digest", "preview", str(issue.id), env=env)
    assert printed.returncode == 0, printed.stderr
    assert "Subject: Fresh Story" in printed.stdout
    assert "Unsubscribe:\nhttps://n.example.org/unsubscribe?token=preview" in printed.stdout
    written = run("digest", "preview", issue.key, "--out", str(tmp_path / "out"), env=env)
    assert written.returncode == 0, written.stderr
    assert f"wrote {tmp_path / 'out' / issue.key}.html" in written.stdout.replace("\n", "")
    page = (tmp_path / "out" / f"{issue.key}.html").read_text()
    assert "Fresh Story" in page
    assert "\ue000" not in page
    missing = run("digest", "preview", "1999-W01", env=env)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no issue '1999-W01'")
    again = run("digest", "build", env=env)
    assert "rebuilt draft" in again.stdout


def test_build_with_an_unwritable_outbox_keeps_the_draft_and_warns_once(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    """No SMTP URL: the notice goes to var/outbox, here a file where the folder should be."""
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, now)
        add_post(session, "fresh-story", now - timedelta(days=1), [topics["asylum"]])
    var = tmp_path / "var"
    var.mkdir()
    (var / "outbox").write_text("not a folder")
    env = {
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_SITE_URL": "https://n.example.org",
        "NEWSLETTER_VAR_DIR": str(var),
    }
    built = run("digest", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "built draft " in built.stdout
    [warning] = built.stderr.splitlines()
    assert "WARNING" in warning
    assert f"could not tell the editors about issue {built.stdout.split()[2]}" in warning
    assert f"cannot write to the outbox {var / 'outbox'}: " in warning
    assert "Traceback" not in built.stdout + built.stderr
    assert "cannot write to the outbox" not in built.stdout
    assert list(var.rglob("*.tmp")) == []
    with runtime.sessions() as session:
        assert len(session.scalars(select(Issue)).all()) == 1
