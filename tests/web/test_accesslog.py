"""The access log's redaction: token values and /r/ paths go, everything else stays."""

from __future__ import annotations

import pytest

from newsletter.web.accesslog import redact


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/confirm?token=abc.def", "/confirm?token=[redacted]"),
        ("/unsubscribe?topic=all&token=abc", "/unsubscribe?topic=all&token=[redacted]"),
        # Spelt as the framework still reads it: Token, an escaped name, a plus for a space.
        ("/preferences?tok%65n=abc&TOKEN=def", "/preferences?tok%65n=[redacted]&TOKEN=[redacted]"),
        ("/x?token+=abc", "/x?token+=[redacted]"),
        ("/r/abc/def?u=1", "/r/[redacted]?u=1"),
        ("/archive/2026-W48?page=2", "/archive/2026-W48?page=2"),
        ("/r/", "/r/"),
        ("/confirm?token", "/confirm?token"),
    ],
)
def test_redact(target: str, logged: str) -> None:
    assert redact(target) == logged
