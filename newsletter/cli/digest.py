"""`newsletter digest build`, `preview ID`, `test ID --to ADDR` and `approve ID [--at WHEN]`.

`digest send` and `pause` are in newsletter/cli/send.py, which loads no renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.output import out
from newsletter.cli.state import runtime_from
from newsletter.deliver.proof import proof_addresses
from newsletter.digest.variants import ALL_TOPICS
from newsletter.editors.notify import NOT_TOLD, local
from newsletter.editors.review import parse_send_time
from newsletter.errors import MessageError, UsageError
from newsletter.pipeline import review
from newsletter.pipeline.draft import build_draft
from subscribers.audience import topic_key as make_topic_key


def build(ctx: typer.Context) -> None:
    """Build (or rebuild) this week's draft from the posts collected; an editor's choices stay.

    A new draft is announced to the editors by mail. When that mail cannot go (relay down,
    outbox not writable) the draft is kept all the same, the failure is one warning line on
    stderr, and the exit code is 0: the build, which is the command's work, succeeded.
    """
    runtime = runtime_from(ctx)
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
    runtime = runtime_from(ctx)
    key = _topic_key(topics)
    shown = review.preview(runtime, review.find_issue(runtime, ident), key)
    if out_dir is None:
        out.print(f"Subject: {shown.subject}\n", markup=False, highlight=False)
        out.print(shown.text.decode(), markup=False, highlight=False, end="")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = shown.issue_key + (f"-{key.replace(',', '+')}" if key != ALL_TOPICS else "")
    (out_dir / f"{stem}.html").write_bytes(shown.html)
    (out_dir / f"{stem}.txt").write_bytes(shown.text)
    label = f"topics {key}" if key else "all topics"
    out.print(
        f"wrote {out_dir / (stem + '.html')} and {out_dir / (stem + '.txt')} "
        f"(issue {shown.issue_key}, {label}, subject: {shown.subject})",
        markup=False,
        highlight=False,
    )


def _topic_key(topics: str) -> str:
    return make_topic_key([slug.strip() for slug in topics.split(",") if slug.strip()])


def send_test(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="The issue's number or key.")],
    to: Annotated[
        list[str],
        typer.Option(
            "--to",
            metavar="ADDR",
            help="Send to this address; repeat it, or separate with commas (at most five).",
        ),
    ],
    topics: Annotated[
        str, typer.Option(help="Comma-separated topic slugs; empty for all topics.")
    ] = "",
) -> None:
    """Send a test copy (subject marked [TEST]) through the real mail server; nothing recorded."""
    try:
        recipients = proof_addresses(" ".join(to))
    except MessageError as exc:
        raise UsageError(str(exc)) from None
    runtime = runtime_from(ctx)
    issue_id = review.find_issue(runtime, ident)
    review.send_test(runtime, issue_id, recipients, _topic_key(topics))
    out.print(f"issue {ident}: test sent to {', '.join(recipients)}", markup=False, highlight=False)


def approve(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="The issue's number or key.")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="WHEN",
            help="Send time: ISO 8601 (no offset: the site's time zone) or now. "
            "Default: the next digest.send slot.",
        ),
    ] = None,
) -> None:
    """Approve a draft to be sent by the scheduler at its send time."""
    runtime = runtime_from(ctx)
    send_at = None
    if at is not None:
        try:
            send_at = parse_send_time(at, runtime.settings.zone, runtime.clock.now())
        except ValueError as exc:
            raise UsageError(f"--at: {exc}") from None
    approved = review.approve(runtime, review.find_issue(runtime, ident), review.OPERATOR, send_at)
    out.print(
        f"approved issue {approved.key}: it goes out at "
        f"{local(approved.send_at, runtime.settings)}",
        markup=False,
        highlight=False,
    )
