"""Break opportunities in overlong words: where they go, and where they never go."""

from __future__ import annotations

from newsletter.digest.words import BREAK, CHUNK, LONG, breakable


def test_prose_is_left_alone() -> None:
    text = "Internationalisation of Bundesverfassungsgericht rulings"[:LONG]
    plain = "A plain sentence with ordinary words."
    assert breakable(plain) == plain
    assert breakable(text) == text


def test_an_overlong_word_may_break_every_chunk() -> None:
    word = "https://records.example.gov/" + "x" * 200
    broken = breakable(f"See {word} now")
    assert broken.replace(BREAK, "") == f"See {word} now"
    pieces = broken.split(" ")[1].split(BREAK)
    assert len(pieces) > 1
    assert max(len(piece) for piece in pieces) == CHUNK


def test_no_break_inside_a_character_or_an_emoji_sequence() -> None:
    accented = "e\u0301" * 30  # e + combining acute, 60 code points
    broken = breakable(accented)
    assert BREAK in broken
    assert all(not piece.startswith("\u0301") for piece in broken.split(BREAK))
    family = "\U0001f469\U0001f3fd\u200d\u2696\ufe0f" * 10
    for piece in breakable(family).split(BREAK)[1:]:
        assert piece[0] not in "\u200d\ufe0f\U0001f3fd\u2696"
