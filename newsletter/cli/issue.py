"""`newsletter issue new`: a special issue's draft, from a collected post or a Markdown file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.output import out
from newsletter.cli.state import runtime_from
from newsletter.digest.special import APPEAL, BODY_LIMIT, BREAKING
from newsletter.errors import UsageError
from newsletter.pipeline import special

# Bytes read from a Markdown file: UTF-8 takes at most four a character.
FILE_LIMIT = BODY_LIMIT * 4


def new(
    ctx: typer.Context,
    post: Annotated[
        str | None,
        typer.Option("--post", metavar="URL", help="Breaking news: a collected post's address."),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", metavar="FILE", help="An appeal: its text, in Markdown."),
    ] = None,
    topics: Annotated[
        str, typer.Option(help="Comma-separated topic slugs of its audience; empty for everyone.")
    ] = "",
    subject: Annotated[
        str, typer.Option(help="The subject (an appeal's default: its first line).")
    ] = "",
    cta_label: Annotated[str, typer.Option(help="An appeal's button: its label.")] = "",
    cta_url: Annotated[str, typer.Option(help="An appeal's button: its https:// address.")] = "",
    leave_out: Annotated[
        bool,
        typer.Option(
            "--leave-out-of-weekly", help="Breaking news: take its story out of the weekly issue."
        ),
    ] = False,
) -> None:
    """Create a special issue draft; approve and send it as a weekly one (`digest approve ID`)."""
    if (post is None) == (markdown is None):
        raise UsageError("give either --post URL (breaking news) or --markdown FILE (an appeal)")
    slugs = tuple(slug.strip() for slug in topics.split(",") if slug.strip())
    if markdown is not None:
        body = _read(markdown)
        draft = special.SpecialDraft(
            APPEAL,
            topics=slugs,
            subject=subject or _first_line(body),
            body_markdown=body,
            cta_label=cta_label,
            cta_url=cta_url,
        )
    else:
        draft = special.SpecialDraft(
            BREAKING,
            topics=slugs,
            subject=subject,
            post_url=post or "",
            cta_label=cta_label,
            cta_url=cta_url,
            leave_out_of_weekly=leave_out,
        )
    runtime = runtime_from(ctx)
    made = special.create(runtime, draft)
    out.print(
        f"created special issue {made.key} (issue {made.issue_id}): review it at "
        f"{runtime.settings.site.base_url}/admin/issues/{made.issue_id}",
        markup=False,
        highlight=False,
        soft_wrap=True,  # the link stays whole, to be copied
    )


def _read(path: Path) -> str:
    """The file's text, refused whole when larger than an appeal may be or not UTF-8."""
    try:
        with path.open("rb") as handle:
            data = handle.read(FILE_LIMIT + 1)
    except OSError as exc:
        raise UsageError(f"--markdown: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > FILE_LIMIT:
        raise UsageError(f"--markdown: {path} is larger than {FILE_LIMIT:,} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"--markdown: {path} is not UTF-8 text") from None


def _first_line(body: str) -> str:
    line = next((line for line in body.splitlines() if line.strip()), "")
    return line.strip().lstrip("#").strip()[:200]
