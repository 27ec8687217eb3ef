"""The editor's intro for the text part: Markdown read as the HTML part reads it, shown as text."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

from markdown_it.token import Token

from newsletter.digest.intro import MARKDOWN, SCHEMES
from newsletter.digest.text import WIDTH, squash

_HARD_BREAK = "\x00"  # a line break the editor asked for, kept through squash() and wrap


def _inline(children: Sequence[Token], track: Callable[[str], str]) -> str:
    """Emphasis and code marks dropped; a link as `text (url)`, or the URL alone if it is the text.

    A link whose scheme the HTML part drops (nh3 keeps only SCHEMES) shows its text alone.
    """
    out: list[str] = []
    links: list[tuple[int, str]] = []  # (where the link's text starts, its href)
    for child in children:
        if child.type in {"text", "code_inline"}:
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append(_HARD_BREAK)
        elif child.type == "image":
            out.append(child.content)  # its alt text
        elif child.type == "link_open":
            links.append((len(out), str(child.attrs.get("href", ""))))
        elif child.type == "link_close" and links:
            start, href = links.pop()
            if href.partition(":")[0].lower() not in SCHEMES:
                continue
            label = "".join(out[start:]).strip()
            if label in {href, href.removeprefix("mailto:")}:
                del out[start:]
                out.append(label if href.startswith("mailto:") else track(href))
            else:
                out.append(f" ({track(href)})")
    return "".join(out)


def _fill(text: str, first: str, rest: str, width: int) -> str:
    lines = []
    for index, line in enumerate(text.split(_HARD_BREAK)):
        lines.append(
            textwrap.fill(
                squash(line),
                width=width,
                initial_indent=first if index == 0 else rest,
                subsequent_indent=rest,
                break_long_words=False,  # URLs stay whole, so they stay clickable
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def to_text(source: str, track: Callable[[str], str] = lambda url: url, width: int = WIDTH) -> str:
    """Paragraphs wrapped at `width`, list items as "- " or "1. ", quotes as "> "."""
    blocks: list[tuple[str, bool]] = []  # (text, in a tight list)
    numbers: list[int | None] = []  # per open list: the next number, None for bullets
    # Per open list item or quote: its marker, and whether its first line is still to come.
    marks: list[list[str | bool]] = []
    tight = False

    def indents() -> tuple[str, str]:
        first = "".join(str(m) if fresh else " " * len(str(m)) for m, fresh in marks)
        rest = "".join(str(m) if m == "> " else " " * len(str(m)) for m, _ in marks)
        for mark in marks:
            mark[1] = False
        return first, rest

    for token in MARKDOWN.parse(source):
        kind = token.type
        if kind in {"bullet_list_open", "ordered_list_open"}:
            start = token.attrs.get("start", 1)
            numbers.append(int(start) if kind == "ordered_list_open" else None)
        elif kind in {"bullet_list_close", "ordered_list_close"} and numbers:
            numbers.pop()
            if not numbers:
                blocks.append(("", False))  # whatever follows a list is a paragraph apart
        elif kind == "list_item_open" and numbers:
            number = numbers[-1]
            marks.append([f"{number}. " if number is not None else "- ", True])
            if number is not None:
                numbers[-1] = number + 1
        elif kind == "blockquote_open":
            marks.append(["> ", True])
        elif kind in {"list_item_close", "blockquote_close"} and marks:
            marks.pop()
        elif kind == "paragraph_open":
            tight = token.hidden
        elif kind == "inline":
            first, rest = indents()
            text = _fill(_inline(token.children or (), track), first, rest, width)
            blocks.append((text, tight))
        elif kind in {"code_block", "fence"}:
            first, rest = indents()
            code = token.content.rstrip("\n").split("\n")
            lines = [first + "    " + code[0], *(rest + "    " + line for line in code[1:])]
            blocks.append(("\n".join(lines), False))
        elif kind == "hr":
            blocks.append((indents()[0] + "* * *", False))
    out = ""
    previous_tight = False
    for text, in_tight in blocks:
        if not text.strip():
            previous_tight = False
            continue
        # Items of a tight list sit on consecutive lines; anything else is a paragraph of its own.
        out += ("\n" if in_tight and previous_tight else "\n\n") if out else ""
        out += text
        previous_tight = in_tight
    return out
