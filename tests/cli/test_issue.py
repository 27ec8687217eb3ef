"""`newsletter issue new` as a user runs it, then `digest approve` and `send` by its key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from newsletter.models import Issue
from newsletter.runtime import Runtime
from tests.cli.process import run, service_env
from tests.factories import add_post, add_topics, subscriber
from tests.smtpd import SmtpServer
from tests.web.test_subscription import part


def _world(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, now)
        add_post(session, "the-wall", now - timedelta(hours=2), [topics["border-enforcement"]])
        session.add_all(
            [
                subscriber("all@example.net", now),
                subscriber("border@example.net", now, topics=[topics["border-enforcement"]]),
                subscriber("asylum@example.net", now, topics=[topics["asylum"]]),
            ]
        )


def test_breaking_news_from_a_post_then_approved_and_sent_by_its_key(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    _world(runtime)
    env = service_env(runtime, smtp.url)
    made = run(
        "issue", "new", "--post", "https://news.example.org/the-wall/",
        "--topics", "border-enforcement", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.kind == "breaking"
    assert issue.audience == "border-enforcement"
    assert f"(issue {issue.id})" in made.stdout
    assert f"https://news.example.org/admin/issues/{issue.id}" in made.stdout
    approved = run("digest", "approve", issue.key, "--at", "now", env=env)
    assert approved.returncode == 0, approved.stderr
    sent = run("digest", "send", issue.key, env=env)
    assert sent.returncode == 0, sent.stderr
    by_address = {m.recipients[0]: m.message for m in smtp.received}
    assert set(by_address) == {"all@example.net", "border@example.net"}
    assert by_address["border@example.net"]["Subject"] == "Breaking news: The Wall"


def test_an_appeal_from_a_markdown_file(runtime: Runtime, smtp: SmtpServer, tmp_path: Path) -> None:
    _world(runtime)
    env = service_env(runtime, smtp.url)
    letter = tmp_path / "appeal.md"
    letter.write_text("# Our year-end appeal\n\nWe rely on readers like you.\n")
    made = run(
        "issue", "new", "--markdown", str(letter), "--topics", "asylum",
        "--cta-label", "Give", "--cta-url", "https://news.example.org/give", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.subject == "Our year-end appeal"
    assert issue.kind == "appeal"
    test = run("digest", "test", str(issue.id), "--to", "editor@example.org", env=env)
    assert test.returncode == 0, test.stderr
    (proof,) = smtp.received
    assert proof.message["Subject"] == "[TEST] Our year-end appeal"
    assert "We rely on readers like you." in part(proof.message, "plain")
    assert "Give: https://news.example.org/r/" in part(proof.message, "plain")


def test_mistakes_are_one_line_and_create_nothing(runtime: Runtime, tmp_path: Path) -> None:
    _world(runtime)
    env = service_env(runtime, "smtp://127.0.0.1:9")
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 200_001)
    latin = tmp_path / "latin.md"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    cases = [
        (["--post", "https://news.example.org/never-collected/"], "no collected post"),
        (["--markdown", str(big)], "is larger than 200,000 bytes"),
        (["--markdown", str(latin)], "is not UTF-8 text"),
        (["--markdown", str(tmp_path / "missing.md")], "cannot read"),
        ([], "give either --post URL"),
        (["--post", "https://news.example.org/the-wall/", "--topics", "nope"], "no topic 'nope'"),
    ]
    for args, words in cases:
        result = run("issue", "new", *args, env=env)
        assert result.returncode != 0, args
        assert result.stderr.startswith("error: "), result.stderr
        assert words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    with runtime.sessions() as session:
        assert session.scalars(select(Issue)).all() == []
