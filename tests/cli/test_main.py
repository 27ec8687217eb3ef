"""The `newsletter` command as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli.process import NEWSLETTER, run


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


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def _editor(env: dict[str, str], address: str = "ed@example.org") -> None:
    assert run("init", env=env).returncode == 0
    added = subprocess.run(
        [NEWSLETTER, "editors", "add", address, "--password-stdin"],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}, **env},
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stderr


def test_a_locked_database_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "locked.db"
    env = {"NEWSLETTER_DATABASE_URL": f"sqlite:///{database}"}
    _editor(env)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        holder.execute("UPDATE editors SET role = role")
        stderr = _one_line(run("editors", "disable", "ed@example.org", env=env), 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "the database is locked" in stderr


def test_a_read_only_database_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "ro.db"
    _editor({"NEWSLETTER_DATABASE_URL": f"sqlite:///{database}"})
    # Opened read-only by SQLite itself: chmod does not stop root, who runs CI.
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    result = run("editors", "disable", "ed@example.org", env={"NEWSLETTER_DATABASE_URL": read_only})
    assert "the database is read-only" in _one_line(result, 1)


def test_a_config_file_not_in_utf8_is_a_setting_error(tmp_path: Path) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes('[site]\nname = "Café"\n'.encode("latin-1"))
    stderr = _one_line(run("init", env={"NEWSLETTER_CONFIG": str(config)}), 2)
    assert "not UTF-8" in stderr


@pytest.mark.parametrize(
    "env",
    [
        {"NEWSLETTER_SMTP_URL": "smtp://user:hunter2@host:bad"},
        {"NEWSLETTER_DATABASE_URL": "postgresql+psycopg://app:hunter2@db:port/news"},
        {"NEWSLETTER_BROKER_URL": "http://user:hunter2@redis:6379/0"},
    ],
)
def test_url_errors_never_print_the_password(env: dict[str, str]) -> None:
    stderr = _one_line(run("init", env=env), 2)
    assert "hunter2" not in stderr
    assert "user:***@" in stderr or "app:***@" in stderr


@pytest.mark.parametrize("key", ["change-me-in-production", "", "x" * 40])
def test_a_weak_secret_key_stops_every_command(key: str) -> None:
    stderr = _one_line(run("init", env={"NEWSLETTER_SECRET_KEY": key}), 2)
    assert "NEWSLETTER_SECRET_KEY" in stderr
    assert "secrets.token_urlsafe(48)" in stderr
    if key:
        assert key not in stderr


def test_a_weak_key_file_stops_a_command_before_it_runs(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("change-me-in-production\n")
    env = {"NEWSLETTER_VAR_DIR": str(tmp_path / "var")}
    stderr = _one_line(run("subscribers", "list", env=env), 2)
    assert "delete the file to generate one" in stderr
    assert "change-me-in-production" not in stderr


def test_disable_ends_sign_in_and_list_shows_it(tmp_path: Path) -> None:
    env = {"NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"}
    _editor(env)
    result = run("editors", "disable", "ED@example.org", env=env)
    assert result.returncode == 0, result.stderr
    assert "disabled" in result.stdout
    listed = run("editors", "list", env=env)
    assert "disabled" in listed.stdout
    assert "error: no editor nobody@example.org" in _one_line(
        run("editors", "disable", "nobody@example.org", env=env), 1
    )


@pytest.mark.parametrize(
    "args",
    [
        ("subscribers", "list"),
        ("subscribers", "export"),
        ("sources",),
        ("editors", "list"),
        ("feeds", "build"),
        ("digest", "pause", "1"),
        ("bounces", "process", "nowhere"),
        ("schedule",),
    ],
)
def test_every_command_but_init_refuses_an_unmigrated_database(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run(*args, env={"NEWSLETTER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert _one_line(result, 1).strip().endswith("run `newsletter init` first")
