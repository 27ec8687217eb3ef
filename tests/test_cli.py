"""The `newsletter` command as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return subprocess.run(
        [NEWSLETTER, *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=120,
        check=False,
    )


def test_help_lists_real_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("init", "serve"):
        assert command in result.stdout


def test_init_twice_is_harmless(database_url: str) -> None:
    env = {"NEWSLETTER_DATABASE_URL": database_url}
    first = run("init", env=env)
    second = run("init", env=env)
    assert first.returncode == 0, first.stderr
    assert "migrated empty →" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "database: up to date" in second.stdout


def test_init_loads_configured_topics(tmp_path: Path) -> None:
    config = tmp_path / "n.toml"
    config.write_text('[[topics]]\nslug = "asylum"\nname = "Asylum"\n')
    result = run("init", env={"NEWSLETTER_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert "added: topic asylum" in result.stdout
    assert (tmp_path / "var" / "newsletter.db").exists()


@pytest.mark.parametrize(
    ("env", "code", "expected"),
    [
        ({"NEWSLETTER_DATABASE_URL": "nonsense://"}, 2, "NEWSLETTER_DATABASE_URL"),
        ({"NEWSLETTER_TIMEZONE": "Nowhere/City"}, 2, "site.timezone"),
        (
            {"NEWSLETTER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"},
            1,
            "cannot reach the database",
        ),
    ],
)
def test_errors_are_one_line_without_traceback(
    env: dict[str, str], code: int, expected: str
) -> None:
    result = run("init", env=env)
    assert result.returncode == code
    assert expected in result.stderr
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_refuses_an_unmigrated_database() -> None:
    result = run("serve", "--port", "1")
    assert result.returncode == 1
    assert "run `newsletter init` first" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
