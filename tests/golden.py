"""Golden files: output compared byte for byte with a stored file; writing one always fails.

A test calls check({path: output, ...}). A missing file is written and the test fails ("created
...; check it and commit it"), so a new case cannot pass before someone has looked at it.
Regeneration is asked for explicitly, with `pytest --regen-golden` (or NEWSLETTER_REGENERATE=1):
each file that differs is rewritten and its test fails, and the whole run fails even when no file
changed, so a run that regenerates can never pass (a CI run with the variable set goes red).

tests/conftest.py loads this module as a pytest plugin, for the option and the end-of-run check.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

OPTION = "--regen-golden"
ENVIRONMENT = "NEWSLETTER_REGENERATE"
HOW = f"`pytest {OPTION}` (or {ENVIRONMENT}=1)"
DIFF_LINES = 40


class Run:
    """This run's mode, set by pytest_configure, and the files written so far."""

    regenerate = False
    written: list[Path] = []  # noqa: RUF012 - one list per run, reset by pytest_configure


def check(files: Mapping[Path, str | bytes], *, regenerate: bool | None = None) -> None:
    """Fail the calling test unless every file holds exactly its output (str is stored as UTF-8).

    Every file is seen to before failing, so one run creates or rewrites all of a case's files.
    """
    regen = Run.regenerate if regenerate is None else regenerate
    problems = []
    for path, output in files.items():
        data = output.encode("utf-8") if isinstance(output, str) else output
        if not path.is_file():
            _write(path, data)
            problems.append(f"created {path}; check it and commit it")
            continue
        stored = path.read_bytes()
        if stored == data:
            continue
        if regen:
            _write(path, data)
            problems.append(f"rewrote {path}; check the change (git diff) and commit it")
        else:
            problems.append(
                f"{path} differs from the output; if the change is meant, run {HOW}, "
                f"check the diff and commit it\n{_diff(stored, data)}"
            )
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    Run.written.append(path)


def _diff(stored: bytes, output: bytes) -> str:
    """The first lines of a unified diff, stored file first, to see what changed without a tool."""
    lines = list(
        difflib.unified_diff(
            stored.decode("utf-8", "replace").splitlines(),
            output.decode("utf-8", "replace").splitlines(),
            "stored",
            "output",
            lineterm="",
        )
    )
    more = f"\n... {len(lines) - DIFF_LINES} more diff lines" if len(lines) > DIFF_LINES else ""
    return "\n".join(lines[:DIFF_LINES]) + more


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        action="store_true",
        help="rewrite golden files that differ; the run fails, so that the change is looked at",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Read here, before tests/conftest.py's fixture clears NEWSLETTER_* for each test.
    Run.regenerate = bool(config.getoption(OPTION)) or os.environ.get(ENVIRONMENT) == "1"
    Run.written = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    if Run.regenerate and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (Run.regenerate or Run.written):
        return
    terminalreporter.section("golden files")
    for path in Run.written:
        terminalreporter.write_line(f"written: {path}")
    if Run.regenerate:
        terminalreporter.write_line(
            f"{len(Run.written)} file(s) rewritten; a run with {HOW} always fails: "
            "check the changes, commit them and run again without it"
        )
