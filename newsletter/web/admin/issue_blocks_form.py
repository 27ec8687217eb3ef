"""The edit form's blocks: each placed block's place, moved or taken out, and a new one added."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from newsletter import blocks
from newsletter.models import Block, Issue, IssueBlock

ACTIONS = ("block_move", "block_remove", "add_block")


@dataclass(frozen=True)
class Placed:
    """A placed block as the form shows it."""

    row_id: int
    name: str
    kind: str
    after_story: int


@dataclass(frozen=True)
class Shown:
    placed: tuple[Placed, ...]
    available: tuple[tuple[int, str, str], ...]  # (id, name, kind label) of every block


def shown(session: Session, issue_id: int) -> Shown:
    issue = session.get(Issue, issue_id)
    rows = issue.blocks if issue is not None else []
    placed = tuple(
        Placed(r.id, r.block.name, blocks.KINDS.get(r.block.kind, r.block.kind), r.after_story)
        for r in rows
    )
    available = tuple(
        (b.id, b.name, blocks.KINDS.get(b.kind, b.kind)) for b in blocks.every(session)
    )
    return Shown(placed, available)


def asked(form: FormData) -> bool:
    """Whether the form asked for a change to the blocks (it comes back to them)."""
    return any(str(form.get(name, "")) for name in ACTIONS)


def _int(form: FormData, name: str) -> int | None:
    raw = str(form.get(name, ""))[:9]
    return int(raw) if raw.isdigit() else None


def apply(session: Session, issue: Issue, form: FormData, stories: int) -> None:
    """Write the form's block choices into the issue; unknown ids and places are ignored.

    `stories` is how many stories the issue includes: a place is 0 (before them) to that.
    """
    rows = list(issue.blocks)
    for row in rows:
        after = _int(form, f"block_after_{row.id}")
        if after is not None:
            row.after_story = min(after, stories)
    removed = _int(form, "block_remove")
    for row in [r for r in rows if r.id == removed]:
        rows.remove(row)
        issue.blocks.remove(row)
    rows.sort(key=lambda r: (r.after_story, r.position))
    _move(rows, str(form.get("block_move", "")), stories)
    added = _int(form, "add_block")
    if added is not None and session.get(Block, added) is not None:
        after = min(_int(form, "add_block_after") or 0, stories)
        row = IssueBlock(block_id=added, after_story=after, position=len(rows))
        issue.blocks.append(row)
        rows.append(row)
    rows.sort(key=lambda r: (r.after_story, r.position))
    for position, row in enumerate(rows):
        row.position = position


def _move(rows: list[IssueBlock], move: str, stories: int) -> None:
    """Up: before the block above it at the same place, else one story earlier; down likewise."""
    direction, _, ident = move.partition(":")
    index = next((i for i, r in enumerate(rows) if str(r.id) == ident), None)
    if index is None or direction not in ("up", "down"):
        return
    row = rows[index]
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows) and rows[other].after_story == row.after_story:
        row.position, rows[other].position = rows[other].position, row.position
        rows.sort(key=lambda r: (r.after_story, r.position))
        return
    step = -1 if direction == "up" else 1
    row.after_story = max(0, min(stories, row.after_story + step))
    # At its new place it stays next to where it was: last there moving up, first moving down.
    row.position = -1 if direction == "down" else max(r.position for r in rows) + 1
    rows.sort(key=lambda r: (r.after_story, r.position))
