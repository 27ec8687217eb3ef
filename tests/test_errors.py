"""The one-line messages users see: a driver's multi-line error is cut to its first line."""

from __future__ import annotations

from newsletter.errors import first_line


def test_first_line_keeps_the_first_line_and_names_a_silent_error() -> None:
    assert first_line(RuntimeError("connection refused\nDETAIL: host=db")) == "connection refused"
    assert first_line(TimeoutError()) == "TimeoutError"
    assert first_line(ValueError("  \n ")) == "ValueError"
    assert first_line(None) == "unknown error"
