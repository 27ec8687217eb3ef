"""Reusable blocks (a sponsor line, an event, a job ad): checked, saved and removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.errors import NewsletterError
from newsletter.models import Block, Issue, IssueBlock, IssueStatus

KINDS = {"sponsor": "Sponsor line", "event": "Event", "job": "Job ad"}
MAX_NAME = 200
MAX_BODY = 5000


class BlockError(NewsletterError):
    """A block that cannot be saved or removed; the message names the field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Wanted:
    kind: str
    name: str
    body_markdown: str


def checked(kind: str, name: str, body_markdown: str) -> Wanted:
    """The typed fields, trimmed; BlockError names the first one that is wrong."""
    name, body = name.strip(), body_markdown.strip()
    if kind not in KINDS:
        raise BlockError("kind", f"Choose a kind: {', '.join(KINDS.values())}.")
    if not name or len(name) > MAX_NAME:
        raise BlockError("name", f"A name is needed, at most {MAX_NAME} characters.")
    if not body or len(body) > MAX_BODY:
        raise BlockError("body_markdown", f"The text is needed, at most {MAX_BODY} characters.")
    return Wanted(kind, name, body)


def save(
    session: Session, wanted: Wanted, editor: str, now: datetime, block_id: int | None = None
) -> Block:
    """Create the block, or change block `block_id`; names are unique (case-insensitive)."""
    clash = session.scalar(
        select(Block.id).where(func.lower(Block.name) == wanted.name.lower(), Block.id != block_id)
    )
    if clash is not None:
        raise BlockError("name", f"There is already a block named {wanted.name!r}.")
    block = load(session, block_id) if block_id is not None else None
    if block is None:
        block = Block(created_at=now)
        session.add(block)
    block.kind, block.name, block.body_markdown = wanted.kind, wanted.name, wanted.body_markdown
    block.edited_by, block.updated_at = editor, now
    session.flush()
    return block


def load(session: Session, block_id: int) -> Block:
    block = session.get(Block, block_id)
    if block is None:
        raise BlockError("form", "There is no such block.")
    return block


def remove(session: Session, block_id: int) -> None:
    """Delete the block, unless an issue not yet sent carries it (the editor takes it out first).

    Sent issues lose it: their mail went out as it was, their archive page shows them without it.
    """
    block = load(session, block_id)
    waiting = session.scalars(
        select(Issue.key)
        .join(IssueBlock, IssueBlock.issue_id == Issue.id)
        .where(IssueBlock.block_id == block_id)
        .where(Issue.status.in_((IssueStatus.DRAFT, IssueStatus.APPROVED)))
        .order_by(Issue.key)
    ).all()
    if waiting:
        raise BlockError(
            "form", f"{block.name!r} is in issue {', '.join(waiting)}; take it out there first."
        )
    session.delete(block)


def every(session: Session) -> list[Block]:
    return list(session.scalars(select(Block).order_by(Block.kind, Block.name)))


def uses(session: Session) -> dict[int, int]:
    """How many issues each block is placed in."""
    rows = session.execute(select(IssueBlock.block_id, func.count()).group_by(IssueBlock.block_id))
    return {block_id: count for block_id, count in rows}
