"""Editors hear about a new draft by email, with a link to its preview."""

from __future__ import annotations

import errno
import os
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from newsletter.clock import FixedClock
from newsletter.editors.models import Role
from newsletter.mail import transport as transport_module
from newsletter.mail.transport import OutboxTransport, SmtpTransport
from newsletter.models import Issue
from newsletter.pipeline.draft import build_draft
from newsletter.runtime import Runtime
from tests.factories import add_post, add_topics
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import make_editor

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_a_new_draft_is_announced_to_every_active_editor_once(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    runtime.clock = FixedClock(NOW)
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "a-story", NOW - timedelta(days=1), [topics["asylum"]])

    first, told = build_draft(runtime, lambda: SmtpTransport.from_url(smtp.url, timeout=5))
    again, told_again = build_draft(runtime, lambda: SmtpTransport.from_url(smtp.url, timeout=5))

    assert first.created
    assert told == "told 2 editors"
    assert not again.created  # a rebuild tells nobody again
    assert told_again == ""
    assert [sorted(r.recipients) for r in smtp.received] == [["ed@example.org", "pub@example.org"]]
    message = BytesParser(policy=policy.default).parsebytes(smtp.received[0].data)
    assert "2026-W48" in str(message["Subject"])
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"https://news.example.org/admin/issues/{first.issue_id}" in body
    assert "A Story" in body
    # The subject readers will get (no editor has set one of their own yet).
    assert 'ready: 2026-W48, "A Story".' in " ".join(body.split())


def test_a_mail_failure_never_undoes_the_build(runtime: Runtime) -> None:
    runtime.clock = FixedClock(NOW)
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "a-story", NOW - timedelta(days=1), [topics["asylum"]])
    result, told = build_draft(
        runtime, lambda: SmtpTransport.from_url("smtp://127.0.0.1:9", timeout=2)
    )
    assert result.built
    assert told.startswith("editors not told: ")


def test_a_full_disk_under_the_outbox_never_undoes_the_build(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the notice is written: the draft stays, the answer says why, no tmp file."""
    runtime.clock = FixedClock(NOW)
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "a-story", NOW - timedelta(days=1), [topics["asylum"]])

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(transport_module.os, "fsync", full)
    outbox = tmp_path / "outbox"
    result, told = build_draft(runtime, lambda: OutboxTransport(outbox))
    assert result.built
    assert told == f"editors not told: cannot write to the outbox {outbox}: No space left on device"
    assert list(outbox.iterdir()) == []
    with runtime.sessions() as session:
        assert session.get(Issue, result.issue_id) is not None


def test_notices_and_confirmations_carry_the_same_headers(runtime: Runtime) -> None:
    """One builder for the site's one-off mail: same sender, headers and line ends for both."""
    from newsletter.confirmations import build_confirmation
    from newsletter.editors.notify import build_notice
    from newsletter.templating import environment

    settings = runtime.settings
    notice = build_notice(
        settings,
        "held",
        ["ed@example.org", "pub@example.org"],
        # A reason over two lines: the subject header still gets one.
        {
            "issue": {"key": "2026-W48"},
            "short_reason": "no\nvariants",
            "subject": "S",
            "slot": "now",
            "reason": "r",
            "preview_url": "u",
        },
        NOW,
    )
    confirmation = build_confirmation(
        settings,
        environment(settings),
        to="new@example.org",
        confirm_url="https://news.example.org/confirm?token=t",
        topics=[],
        now=NOW,
    )
    names = ["Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted"]
    domain = settings.mail.from_address.split("@")[-1]
    for message, to in (
        (notice, "ed@example.org, pub@example.org"),
        (confirmation, "new@example.org"),
    ):
        assert [name for name in message if name in names] == names
        assert message["To"] == to
        assert message["From"] == confirmation["From"]
        assert message["Date"] == "Thu, 26 Nov 2026 14:00:00 +0000"
        assert str(message["Message-ID"]).endswith(f"@{domain}>")
        assert message["Auto-Submitted"] == "auto-generated"
        assert "\n" not in str(message["Subject"])
        assert b"\r\n" in message.as_bytes()
        assert b"\r\r" not in message.as_bytes()
    assert str(notice["Subject"]).endswith("Issue 2026-W48 was held: no variants")
    assert notice.get_content_type() == "text/plain"
    assert confirmation.get_content_type() == "multipart/alternative"
