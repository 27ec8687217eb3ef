"""A special issue's key, audience rule, variant keys and the checks on what an editor types."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from newsletter.digest import special
from newsletter.errors import DigestError

ZONE = ZoneInfo("America/New_York")


def test_keys_are_the_local_day_and_kind_numbered_after_the_first() -> None:
    late = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still 30 November in New York
    assert special.special_key("breaking", late, ZONE, []) == "2026-11-30-breaking"
    taken = ["2026-11-30-breaking", "2026-11-30-breaking-2"]
    assert special.special_key("breaking", late, ZONE, taken) == "2026-11-30-breaking-3"
    assert special.special_key("appeal", late, ZONE, taken) == "2026-11-30-appeal"


@pytest.mark.parametrize(
    ("audience", "reader", "expected"),
    [
        ("", "asylum", True),  # for everyone
        ("asylum", "", True),  # a reader of every topic
        ("asylum", "asylum,border", True),
        ("asylum", "border", False),
        ("asylum,border", "border", True),
    ],
)
def test_who_a_special_issue_reaches(audience: str, reader: str, expected: bool) -> None:
    assert special.reaches(audience, reader) is expected


def test_a_variant_key_carries_the_stories_left_out_and_reads_back() -> None:
    order = [40, 12, 7, 3]
    key = special.without("asylum", [12, 3, 12, 99], order)
    assert key == "asylum|without:xa"  # places 1 and 3: 0b1010; 99 is not in the issue
    assert special.split_key(key, order) == ("asylum", frozenset({3, 12}))
    assert special.split_key(key) == ("asylum", frozenset())
    assert special.split_key("asylum", order) == ("asylum", frozenset())
    assert special.without("", [], order) == ""
    # A key stored before the mask still reads back.
    assert special.split_key("asylum|without:3,12") == ("asylum", frozenset({3, 12}))


def test_a_variant_key_stays_short_for_an_issue_of_any_length() -> None:
    order = list(range(1000, 1400))
    key = special.without("asylum,border-enforcement", order[::2], order)
    assert len(key) < 150
    assert special.split_key(key, order)[1] == frozenset(order[::2])


@pytest.mark.parametrize(
    ("label", "url", "words"),
    [
        ("Give", "", "both"),
        ("", "https://example.org", "both"),
        ("Give", "javascript:alert(1)", "https://"),
        ("Give", "https://", "https://"),
        ("x" * 101, "https://example.org", "at most 100"),
    ],
)
def test_a_bad_call_to_action_is_one_clear_error(label: str, url: str, words: str) -> None:
    with pytest.raises(DigestError) as raised:
        special.check_cta(label, url)
    assert words in str(raised.value)


def test_a_good_call_to_action_and_none() -> None:
    assert special.check_cta(" Give ", " https://example.org/give ") == special.Cta(
        "Give", "https://example.org/give"
    )
    assert special.check_cta("", " ") is None
