"""`newsletter digest build`, `preview`, `approve` and `test` as a user runs them."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from newsletter.editors.models import Role
from newsletter.editors.review import next_slot, unapprove
from newsletter.models import Delivery, Issue, IssueStatus
from newsletter.pipeline.review import OPERATOR
from newsletter.runtime import Runtime
from tests.cli.process import run
from tests.factories import add_post, add_topics
from tests.smtpd import SmtpServer
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
    var.mkdir(exist_ok=True)  # the runtime keeps its signing key there already
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


ZONE = "Europe/Berlin"  # not the default: the commands must use the site's own zone


def _draft(runtime: Runtime, database_url: str, **env: str) -> tuple[dict[str, str], Issue]:
    """A draft built by `digest build` from a post of yesterday (by the wall clock, as it runs)."""
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, now)
        add_post(session, "fresh-story", now - timedelta(days=1), [topics["asylum"]])
    env = {
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_SITE_URL": "https://n.example.org",
        "NEWSLETTER_TIMEZONE": ZONE,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        **env,
    }
    built = run("digest", "build", env=env)
    assert built.returncode == 0, built.stderr
    return env, _the_issue(runtime)


def _the_issue(runtime: Runtime) -> Issue:
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
        session.expunge(issue)
        return issue


def test_approve_defaults_to_the_next_send_slot_in_the_sites_zone(
    runtime: Runtime, database_url: str
) -> None:
    env, draft = _draft(runtime, database_url)
    before = datetime.now(UTC)
    approved = run("digest", "approve", str(draft.id), env=env)
    after = datetime.now(UTC)
    assert approved.returncode == 0, approved.stderr
    issue = _the_issue(runtime)
    assert issue.status == IssueStatus.APPROVED
    assert issue.approved_by == OPERATOR
    assert issue.send_at is not None
    zone = ZoneInfo(ZONE)
    send_at = issue.send_at.replace(tzinfo=UTC) if issue.send_at.tzinfo is None else issue.send_at
    assert send_at in {next_slot("fri 10:00", zone, before), next_slot("fri 10:00", zone, after)}
    local = send_at.astimezone(zone)
    assert local.strftime("%a %H:%M") == "Fri 10:00"
    assert f"approved issue {draft.key}: it goes out at " in approved.stdout
    assert local.strftime("%a %d %b %Y 10:00") in approved.stdout
    # Approving it again is refused: it is no longer a draft. One line, exit 1.
    again = run("digest", "approve", draft.key, env=env)
    assert again.returncode == 1
    assert again.stderr == (f"error: issue {draft.key} is approved; only a draft can be approved\n")


def test_approve_at_a_local_time_an_offset_or_now(runtime: Runtime, database_url: str) -> None:
    env, draft = _draft(runtime, database_url)
    zone = ZoneInfo(ZONE)
    day = (datetime.now(zone) + timedelta(days=20)).date()
    local = f"{day.isoformat()}T07:30"
    approved = run("digest", "approve", draft.key, "--at", local, env=env)
    assert approved.returncode == 0, approved.stderr
    wanted = datetime(day.year, day.month, day.day, 7, 30, tzinfo=zone)
    assert _utc(_the_issue(runtime).send_at) == wanted
    _back_to_draft(runtime)
    with_offset = f"{day.isoformat()}T07:30:00-05:00"
    assert run("digest", "approve", draft.key, "--at", with_offset, env=env).returncode == 0
    assert _utc(_the_issue(runtime).send_at) == datetime.fromisoformat(with_offset)
    _back_to_draft(runtime)
    before = datetime.now(UTC)
    assert run("digest", "approve", str(draft.id), "--at", "now", env=env).returncode == 0
    assert before <= _utc(_the_issue(runtime).send_at) <= datetime.now(UTC)


def _utc(when: datetime | None) -> datetime:
    assert when is not None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _back_to_draft(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        unapprove(issue, datetime.now(UTC))


def test_approve_refuses_a_bad_time_in_one_line_and_changes_nothing(
    runtime: Runtime, database_url: str
) -> None:
    env, draft = _draft(runtime, database_url)
    for bad in ("next friday", "2026-13-40T10:00", "\x1b[31mred"):
        refused = run("digest", "approve", str(draft.id), "--at", bad, env=env)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        [line] = refused.stderr.splitlines()
        assert line.startswith("error: --at: ")
        assert "is not a date and time" in line
        assert "\x1b" not in line
        assert _the_issue(runtime).status == IssueStatus.DRAFT
    unknown = run("digest", "approve", "1999-W01", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: no issue '1999-W01'")


def test_test_send_goes_to_each_address_marked_test_and_records_nothing(
    runtime: Runtime, database_url: str, smtp: SmtpServer
) -> None:
    env, draft = _draft(runtime, database_url, NEWSLETTER_SMTP_URL=smtp.url)
    to = ["--to", "ana@example.org", "--to", "ben@example.org, cho@example.org"]
    sent = run("digest", "test", draft.key, *to, env=env)
    assert sent.returncode == 0, sent.stderr
    assert "test sent to ana@example.org, ben@example.org, cho@example.org" in sent.stdout
    by_address = {m.recipients[0]: m.message for m in smtp.received}
    assert sorted(by_address) == ["ana@example.org", "ben@example.org", "cho@example.org"]
    for address, message in by_address.items():
        assert str(message["Subject"]).startswith("[TEST] ")
        assert message["To"] is not None
        assert address in str(message["To"])
    with runtime.sessions() as session:
        assert session.scalars(select(Delivery)).all() == []
    assert _the_issue(runtime).status == IssueStatus.DRAFT


def test_test_send_refuses_bad_addresses_and_reports_a_relay_that_is_down(
    runtime: Runtime, database_url: str, smtp: SmtpServer
) -> None:
    env, draft = _draft(runtime, database_url, NEWSLETTER_SMTP_URL=smtp.url)
    six = ",".join(f"r{n}@example.org" for n in range(6))
    for args in (["--to", "not an address"], ["--to", six]):
        refused = run("digest", "test", str(draft.id), *args, env=env)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        [line] = refused.stderr.splitlines()
        assert line.startswith("error: ")
    assert smtp.received == []
    unknown_topics = run(
        "digest",
        "test",
        str(draft.id),
        "--to",
        "a@example.org",
        "--topics",
        "border-enforcement",
        env=env,
    )
    assert unknown_topics.returncode == 1
    assert "has no rendered version for topics 'border-enforcement'" in unknown_topics.stderr
    down = {**env, "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{_free_port()}"}
    failed = run("digest", "test", str(draft.id), "--to", "a@example.org", env=down)
    assert failed.returncode == 1
    [line] = failed.stderr.splitlines()
    assert line.startswith("error: ")
    assert "cannot connect to 127.0.0.1:" in line
    assert "Traceback" not in failed.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
