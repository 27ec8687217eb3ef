"""Golden files: each case renders exactly as stored; NEWSLETTER_REGENERATE=1 rewrites them."""

from __future__ import annotations

import os

import pytest

from tests.digest.cases import DATA, case_names, render_case

REGENERATE = os.environ.get("NEWSLETTER_REGENERATE") == "1"


@pytest.mark.parametrize("name", case_names())
def test_case_renders_as_expected(name: str) -> None:
    rendered = render_case(name).rendered
    outputs = {
        "expected.html": rendered.html,
        "expected.txt": f"Subject: {rendered.subject}\n\n{rendered.text}",
    }
    for filename, actual in outputs.items():
        path = DATA / name / filename
        if REGENERATE:
            path.write_text(actual, encoding="utf-8")
        assert path.is_file(), f"{path} is missing; run with NEWSLETTER_REGENERATE=1 to create it"
        assert actual == path.read_text(encoding="utf-8"), f"{name}/{filename} differs"


def test_every_case_has_its_expected_files() -> None:
    for name in case_names():
        assert (DATA / name / "expected.html").is_file()
        assert (DATA / name / "expected.txt").is_file()
