"""Static export: every feed written under DIR at its URL path, atomically, from the CLI too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsletter.errors import PublishError
from newsletter.models import Topic
from newsletter.publish import export as export_module
from newsletter.publish.export import export, write_atomically
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import NoNotifier
from newsletter.runtime import Runtime
from tests.cli.process import run
from tests.publish.cases import NASTY, add_posts


def test_export_writes_every_feed_at_its_path(runtime: Runtime, tmp_path: Path) -> None:
    with runtime.sessions.begin() as session:
        add_posts(session, NASTY[:3], [Topic(slug="asylum", name="Asylum", description="")])
    rebuild(runtime, None, NoNotifier())
    written = export(runtime, tmp_path / "public")
    names = sorted(str(p.relative_to(tmp_path / "public")) for p in written)
    assert names == [
        "archive/feed.xml",
        "atom.xml",
        "feed.json",
        "feed.xml",
        "topics/asylum/atom.xml",
        "topics/asylum/feed.json",
        "topics/asylum/feed.xml",
    ]
    leftovers = [p for p in (tmp_path / "public").rglob("*") if p.name.startswith(".")]
    assert leftovers == []
    assert oct((tmp_path / "public" / "feed.xml").stat().st_mode & 0o777) == "0o644"


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"old feed")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomically(target, b"new feed")
    assert target.read_bytes() == b"old feed"
    assert os.listdir(tmp_path) == ["feed.xml"]


def test_export_names_the_file_it_cannot_write(runtime: Runtime, tmp_path: Path) -> None:
    rebuild(runtime, None, NoNotifier())
    blocker = tmp_path / "public"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(PublishError, match=r"cannot write .*public"):
        export(runtime, blocker)


def test_cli_builds_and_exports(database_url: str, tmp_path: Path) -> None:
    env = {"NEWSLETTER_DATABASE_URL": database_url, "NEWSLETTER_SITE_URL": "https://n.example.org"}
    assert run("init", env=env).returncode == 0
    built = run("feeds", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert "feeds: 4 changed" in built.stdout
    assert "feeds: 0 changed" in run("feeds", "build", env=env).stdout
    exported = run("feeds", "export", str(tmp_path / "out"), env=env)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out" / "feed.xml").read_bytes().startswith(b"<?xml")
    bad = run("feeds", "export", str(tmp_path / "out" / "feed.xml"), env=env)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: cannot write")
    assert "Traceback" not in bad.stderr
