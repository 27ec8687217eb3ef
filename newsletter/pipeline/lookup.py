"""An issue named on the command line: by its number, or by its key (weekly or special)."""

from __future__ import annotations

from sqlalchemy import select

from newsletter.errors import DigestError
from newsletter.models import Issue
from newsletter.runtime import Runtime


def find_issue(runtime: Runtime, ident: str) -> int:
    """The issue's id, from its number or its key (2026-W48, 2026-11-30-breaking)."""
    where = Issue.id == int(ident) if ident.isdigit() else Issue.key == ident[:40]
    with runtime.sessions() as session:
        issue_id = session.scalar(select(Issue.id).where(where))
    if issue_id is None:
        raise DigestError(
            f"no issue {ident[:100]!r}; give its number or its key, like 2026-W48 "
            "or 2026-11-30-breaking"
        )
    return issue_id
