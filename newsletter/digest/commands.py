"""`newsletter digest build` and `newsletter digest preview ID`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from newsletter.cli_state import runtime_from
from newsletter.digest.placeholders import Template, values_for
from newsletter.digest.variants import ALL_TOPICS, render_variant
from newsletter.errors import DigestError
from newsletter.models import Issue, IssueVariant
from newsletter.runtime import Runtime
from subscribers.audience import topic_key as make_topic_key

out = Console()


def build(ctx: typer.Context) -> None:
    """Build (or rebuild) this week's draft from the posts collected; an editor's choices stay.

    A new draft is announced to the editors by mail. When that mail cannot go (relay down,
    outbox not writable) the draft is kept all the same, the failure is one warning line on
    stderr, and the exit code is 0: the build, which is the command's work, succeeded.
    """
    from newsletter.editors.notify import NOT_TOLD
    from newsletter.pipeline.draft import build_draft

    runtime = runtime_from(ctx, migrated=True)
    result, told = build_draft(runtime)
    if not result.built:
        out.print(
            f"{result.key}: nothing new to send; no issue built "
            '(set digest.quiet_week = "send" to build a quiet-week issue)'
        )
        return
    verb = "built" if result.created else "rebuilt"
    what = "a quiet-week issue" if result.quiet else f"{result.posts} posts"
    if result.excluded:
        what += f" ({result.excluded} left out by an editor)"
    out.print(
        f"{verb} draft {result.key} (issue {result.issue_id}): {what}, "
        f"{result.variants} variant{'s' if result.variants != 1 else ''}"
    )
    # A notice that failed was logged as a warning already: one line, not two.
    if told and not told.startswith(NOT_TOLD):
        out.print(f"editors: {told}", markup=False, highlight=False)


def _require_issue(session_issue: Issue | None, ident: str) -> Issue:
    if session_issue is None:
        raise DigestError(f"no issue {ident!r}; give its number or its key, like 2026-W48")
    return session_issue


def preview_values(runtime: Runtime) -> dict[str, bytes]:
    """What the placeholders show in a preview: working-looking links that change nothing."""
    base = runtime.settings.site.base_url
    return values_for(
        {
            "name": "Reader",
            "email": "reader@example.org",
            "unsubscribe_url": f"{base}/unsubscribe?token=preview",
            "preferences_url": f"{base}/preferences?token=preview",
        }
    )


def preview(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="The issue's number or key.")],
    topics: Annotated[
        str, typer.Option(help="Comma-separated topic slugs; empty for all topics.")
    ] = "",
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write ISSUE.html and ISSUE.txt here instead of printing."),
    ] = None,
) -> None:
    """Show an issue as subscribers will get it: print its text, or write its HTML and text."""
    runtime = runtime_from(ctx, migrated=True)
    key = make_topic_key([slug.strip() for slug in topics.split(",") if slug.strip()])
    with runtime.sessions() as session:
        where = Issue.id == int(ident) if ident.isdigit() else Issue.key == ident
        issue = _require_issue(session.scalar(select(Issue).where(where)), ident)
        stored = session.scalar(
            select(IssueVariant).where(
                IssueVariant.issue_id == issue.id, IssueVariant.topic_key == key
            )
        )
        if stored is not None:
            subject, html, text = stored.subject, stored.html, stored.text
        else:
            rendered = render_variant(issue, key, runtime.settings)
            if rendered is None:
                raise DigestError(f"issue {issue.key} has no posts for topics {key!r}")
            subject, html, text = rendered.subject, rendered.html, rendered.text
        issue_key = issue.key
    values = preview_values(runtime)
    html_bytes = Template(html.encode()).fill(values)
    text_bytes = Template(text.encode()).fill(values)
    subject_text = Template(subject.encode()).fill(values).decode()
    if out_dir is None:
        out.print(f"Subject: {subject_text}\n", markup=False, highlight=False)
        out.print(text_bytes.decode(), markup=False, highlight=False, end="")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = issue_key + (f"-{key.replace(',', '+')}" if key != ALL_TOPICS else "")
    (out_dir / f"{stem}.html").write_bytes(html_bytes)
    (out_dir / f"{stem}.txt").write_bytes(text_bytes)
    label = f"topics {key}" if key else "all topics"
    out.print(
        f"wrote {out_dir / (stem + '.html')} and {out_dir / (stem + '.txt')} "
        f"(issue {issue_key}, {label}, subject: {subject_text})",
        markup=False,
        highlight=False,
    )
