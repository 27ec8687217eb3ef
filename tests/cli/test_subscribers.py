"""`newsletter subscribers …` as a user runs it: a real process, a real database, real SMTP."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.process import run
from tests.smtpd import SmtpServer

CONFIG = '[[topics]]\nslug = "asylum"\nname = "Asylum"\n'


def _env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    config = tmp_path / "n.toml"
    config.write_text(CONFIG)
    env = {"NEWSLETTER_CONFIG": str(config), "NEWSLETTER_DATABASE_URL": database_url, **extra}
    assert run("init", env=env).returncode == 0
    return env


def test_import_reports_rejected_rows_and_reruns_change_nothing(
    tmp_path: Path, database_url: str
) -> None:
    env = _env(tmp_path, database_url)
    data = tmp_path / "list.csv"
    data.write_bytes(
        b"email,name,topics,city\nana@example.org,Ana,asylum,Austin\nbad,,,\n"
        b"ben@example.org,Ben,crime,\n=1+1@example.org,\xff,,\n"
    )
    first = run("subscribers", "import", str(data), "--confirmed", env=env)
    assert first.returncode == 0, first.stderr
    assert "4 rows: 1 imported, 0 already on the list, 3 rejected" in first.stdout
    assert f"{data}:3: bad: invalid address:" in first.stderr
    assert f"{data}:4: ben@example.org: unknown topic 'crime'" in first.stderr
    assert f"{data}:5: not UTF-8 text" in first.stderr
    again = run("subscribers", "import", str(data), "--confirmed", env=env)
    assert "1 already on the list" in again.stdout
    listed = run("subscribers", "list", env=env)
    assert listed.stdout.splitlines() == [
        "\t".join(["ana@example.org", "Ana", "active", "asylum", listed.stdout.split("\t")[4][:10]])
    ]
    out = tmp_path / "out.csv"
    exported = run("subscribers", "export", "--output", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert out.read_text().splitlines()[1].startswith("ana@example.org,Ana,asylum,active,")


def test_a_file_without_an_email_column_is_one_clear_error(
    tmp_path: Path, database_url: str
) -> None:
    env = _env(tmp_path, database_url)
    data = tmp_path / "names.csv"
    data.write_text("name\nAna\n")
    result = run("subscribers", "import", str(data), env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {data}: line 1: the header has no 'email' column (found 'name'); "
        "nothing was imported"
    )
    missing = run("subscribers", "import", str(tmp_path / "nope.csv"), env=env)
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr


def test_add_sends_a_confirmation_and_refuses_duplicates(
    tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    env = _env(tmp_path, database_url, NEWSLETTER_SMTP_URL=smtp.url)
    added = run(
        "subscribers", "add", "Ana@Example.org", "--name", "Ana", "--topics", "asylum", env=env
    )
    assert added.returncode == 0, added.stderr
    assert "ana@example.org: added, pending confirmation" in added.stdout
    [mail] = smtp.to("ana@example.org")
    assert re.search(rb"/confirm\?token=3D", mail.data)
    assert run("subscribers", "add", "ben@example.org", "--confirmed", env=env).returncode == 0
    again = run("subscribers", "add", "ben@example.org", env=env)
    assert again.returncode == 1
    assert "already subscribed" in again.stderr
    unknown = run("subscribers", "add", "cy@example.org", "--topics", "nope", env=env)
    assert unknown.returncode == 1
    assert "unknown topic 'nope'" in unknown.stderr
    assert len(smtp.received) == 1


def test_names_with_line_breaks_are_refused_at_import_and_add(
    tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    env = _env(tmp_path, database_url, NEWSLETTER_SMTP_URL=smtp.url)
    data = tmp_path / "list.csv"
    data.write_bytes(
        b'email,name\nana@example.org,Ana\n"eve@example.org","Eve\r\nBcc: x@example.net"\n'
        b'tab@example.org,"Tab\tbed"\n'
    )
    imported = run("subscribers", "import", str(data), "--confirmed", env=env)
    assert imported.returncode == 0, imported.stderr
    assert "3 rows: 1 imported, 0 already on the list, 2 rejected" in imported.stdout
    assert f"{data}:3: eve@example.org: the name must be one line of text" in imported.stderr
    assert f"{data}:5: tab@example.org: the name must be one line of text" in imported.stderr
    added = run("subscribers", "add", "cy@example.org", "--name", "Cy\nBcc: x", env=env)
    assert added.returncode == 1
    assert added.stderr.strip() == (
        "error: cy@example.org: the name must be one line of text, without line breaks or tabs"
    )
    too_long = run("subscribers", "add", "cy@example.org", "--name", "x" * 201, env=env)
    assert too_long.returncode == 1
    assert "longer than 200 characters" in too_long.stderr
    listed = run("subscribers", "list", env=env)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["ana@example.org"]
    assert smtp.received == []


def test_add_takes_a_cadence_per_topic_and_list_shows_it(
    tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    env = _env(tmp_path, database_url, NEWSLETTER_SMTP_URL=smtp.url)
    add = ("subscribers", "add", "ana@example.org", "--confirmed", "--topics")
    # Weekly alone is offered (the default): a daily is refused in one line, nothing stored.
    refused = run(*add, "asylum:daily", env=env)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: --topics: frequency not offered here: 'daily' for topic 'asylum' (weekly)\n"
    )
    config = Path(env["NEWSLETTER_CONFIG"])
    config.write_text(
        CONFIG + '[[topics]]\nslug = "courts"\nname = "Courts"\n'
        '[digest]\ncadences = ["weekly", "daily", "each"]\n'
    )
    assert run("init", env=env).returncode == 0
    hourly = run(*add, "asylum:hourly", env=env)
    assert (hourly.returncode, hourly.stderr.count("\n")) == (1, 1)
    assert "unknown frequency 'hourly' for topic 'asylum' (weekly, daily, each)" in hourly.stderr
    added = run(*add, "courts, asylum:daily", env=env)
    assert added.returncode == 0, added.stderr
    assert run("subscribers", "add", "ben@example.org", "--confirmed", env=env).returncode == 0
    listed = run("subscribers", "list", env=env)
    assert [line.split("\t")[:4] for line in listed.stdout.splitlines()] == [
        ["ben@example.org", "", "active", "all"],
        ["ana@example.org", "", "active", "asylum (daily),courts"],
    ]
    assert smtp.received == []
