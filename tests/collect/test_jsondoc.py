"""JSON from sources: one SourceFormatError naming where, for bad bytes and deep nesting alike."""

from __future__ import annotations

import re

import pytest

from newsletter.collect import jsondoc, jsonfeed, wordpress
from newsletter.errors import SourceFormatError


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{nope", "invalid JSON (Expecting"),
        (b"\xff\xfe{", "invalid JSON ("),
        (b"[" * 100_000, "JSON nested too deeply"),
    ],
)
def test_load_says_where_and_why(content: bytes, why: str) -> None:
    with pytest.raises(SourceFormatError, match=rf"^here: {re.escape(why)}"):
        jsondoc.load(content, "here")


def test_each_source_keeps_its_own_context() -> None:
    with pytest.raises(SourceFormatError, match=r"^https://x/feed: not a readable feed: invalid"):
        jsonfeed.parse(b"{nope", "https://x/feed")
    with pytest.raises(SourceFormatError, match=r"^https://x/api page 3: not JSON \("):
        wordpress._posts(b"{nope", "https://x/api", 3)
