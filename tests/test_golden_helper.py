"""tests/golden.py: a mismatch fails, a missing file is created and fails, regenerating fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import golden

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _own_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written here are not this run's golden files: keep them out of its summary."""
    monkeypatch.setattr(golden.Run, "written", [])


def test_a_matching_file_passes(tmp_path: Path) -> None:
    stored = tmp_path / "expected.txt"
    stored.write_bytes("Café\n".encode())
    golden.check({stored: "Café\n"}, regenerate=False)


def test_a_mismatch_fails_with_a_diff_and_leaves_the_file_alone(tmp_path: Path) -> None:
    stored = tmp_path / "expected.txt"
    stored.write_text("line one\nline two\n")
    with pytest.raises(pytest.fail.Exception) as failed:
        golden.check({stored: "line one\nline 2\n"}, regenerate=False)
    assert "differs" in str(failed.value)
    assert "-line two" in str(failed.value)
    assert "+line 2" in str(failed.value)
    assert "--regen-golden" in str(failed.value)
    assert stored.read_text() == "line one\nline two\n"


def test_a_missing_file_is_created_and_fails(tmp_path: Path) -> None:
    html, text = tmp_path / "case" / "expected.html", tmp_path / "case" / "expected.txt"
    with pytest.raises(pytest.fail.Exception) as failed:
        golden.check({html: "<p>new</p>", text: b"new"}, regenerate=False)
    # Both files are written in the one run, and each is named in the failure.
    assert html.read_text() == "<p>new</p>"
    assert text.read_bytes() == b"new"
    assert f"created {html}" in str(failed.value)
    assert f"created {text}" in str(failed.value)
    golden.check({html: "<p>new</p>", text: b"new"}, regenerate=False)  # the next run passes


def test_regenerating_rewrites_a_file_that_differs_and_fails(tmp_path: Path) -> None:
    stored = tmp_path / "feed.xml"
    stored.write_bytes(b"<old/>")
    with pytest.raises(pytest.fail.Exception, match="rewrote"):
        golden.check({stored: b"<new/>"}, regenerate=True)
    assert stored.read_bytes() == b"<new/>"


TEST_FILE = """
from pathlib import Path

from tests import golden

def test_unchanged():
    golden.check({Path("same.txt"): "same"})
"""


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> int:
    """A pytest run of its own on a one-test file whose golden file matches."""
    (tmp_path / "test_one.py").write_text(TEST_FILE)
    (tmp_path / "same.txt").write_text("same")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.golden", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "--rootdir", str(tmp_path), "test_one.py", *args],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode


def test_a_run_passes_when_nothing_is_regenerated(tmp_path: Path) -> None:
    assert _run(tmp_path) == 0


@pytest.mark.parametrize(
    ("args", "env"),
    [((golden.OPTION,), {}), ((), {golden.ENVIRONMENT: "1"})],
    ids=["option", "environment"],
)
def test_a_regenerating_run_fails_even_when_nothing_changed(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    assert _run(tmp_path, *args, env=env) == pytest.ExitCode.TESTS_FAILED
    assert (tmp_path / "same.txt").read_text() == "same"
