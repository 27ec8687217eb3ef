"""Golden files: each case renders exactly as stored (tests/golden.py: regenerating fails)."""

from __future__ import annotations

import pytest

from tests import golden
from tests.digest.cases import DATA, case_names, render_case


@pytest.mark.parametrize("name", case_names())
def test_case_renders_as_expected(name: str) -> None:
    rendered = render_case(name).rendered
    golden.check(
        {
            DATA / name / "expected.html": rendered.html,
            DATA / name / "expected.txt": f"Subject: {rendered.subject}\n\n{rendered.text}",
        }
    )


def test_every_case_has_its_expected_files() -> None:
    for name in case_names():
        assert (DATA / name / "expected.html").is_file()
        assert (DATA / name / "expected.txt").is_file()
