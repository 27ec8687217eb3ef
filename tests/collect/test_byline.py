"""Bylines from any source: a name cased as names are, and the role after it."""

from __future__ import annotations

import pytest

from newsletter.collect.byline import join_names, parse_byline, split_byline

GREG = "BY GREG CHEN, DIRECTOR OF ADVOCACY, AMERICAN IMMIGRATION LAWYERS ASSOCIATION"
ROLE = "Director of Advocacy, American Immigration Lawyers Association"


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        (GREG, ("Greg Chen", ROLE)),
        ("By Greg Chen", ("Greg Chen", None)),
        ("by: SEAN MCDONALD", ("Sean McDonald", None)),
        ("CONAN O'BRIEN, HOST", ("Conan O'Brien", "Host")),
        ("MARIA DE LA CRUZ", ("Maria de la Cruz", None)),
        ("JEAN-LUC PICARD — CAPTAIN", ("Jean-Luc Picard", "Captain")),
        # The author's own casing is kept, and so is a mixed-case role.
        ("bell hooks, Professor of English", ("bell hooks", "Professor of English")),
        ("Jane Doe | Staff Writer", ("Jane Doe", "Staff Writer")),
        ("John Smith, Jr.", ("John Smith, Jr.", None)),
        # Several authors are names, not a name and a role; an agency stays in capitals.
        ("Jane Doe, John Roe and Ann Poe", ("Jane Doe, John Roe and Ann Poe", None)),
        ("AP", ("AP", None)),
        ("Byron Smith", ("Byron Smith", None)),
        ("", (None, None)),
        ("BY ", (None, None)),
        (", Editor", (None, None)),
    ],
)
def test_parse_byline(byline: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_byline(byline) == expected


def test_a_byline_opening_a_text_is_split_off_with_the_same_rules() -> None:
    assert split_byline(f"{GREG} For the last two years") == (
        "Greg Chen",
        ROLE,
        "For the last two years",
    )


def test_several_authors_join_as_names() -> None:
    joined = join_names(["A. One", "B. Two", "C. Three"])
    assert joined == "A. One, B. Two and C. Three"
    assert parse_byline(joined) == (joined, None)
    assert join_names([]) is None
