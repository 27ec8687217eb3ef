"""The delivery commands: `newsletter digest send ID` and `newsletter bounces process PATH`."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newsletter import migrate
from newsletter.deliver import workers
from newsletter.deliver.batch import Progress as SendProgress
from newsletter.deliver.bounces import process_mailbox
from newsletter.deliver.plan import RenderVariant, no_variant
from newsletter.deliver.relays import default_transport
from newsletter.deliver.send import send_issue
from newsletter.deliver.state import SendResult
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)
out = Console()
LOG_EVERY = 30.0

bounces_app = typer.Typer(help="Process returned mail: bounces, complaints, unsubscribes.")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM and Ctrl-C finish the messages in flight, record them, and exit cleanly."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _line(p: SendProgress) -> str:
    return (
        f"sent {p.sent}/{p.total}, failed {p.failed}, retrying {p.retrying}, "
        f"skipped {p.skipped}, {p.rate:.0f} msg/s"
    )


def send_command(
    runtime: Runtime,
    issue_id: int,
    render_missing: RenderVariant = no_variant,
    detach: bool = False,
) -> None:
    """Send an approved issue (or resume a stopped or paused one) to every eligible subscriber.

    With NEWSLETTER_BROKER_URL the batches go to `newsletter worker`s and this command watches
    the delivery rows (or, with `detach`, returns once they are queued).
    """
    migrate.require_current(runtime.engine)
    factory = default_transport(runtime.settings)
    broker = runtime.settings.broker_url is not None
    if broker:
        from newsletter.deliver.dispatch import enqueue, watch

        lanes = enqueue(runtime, issue_id, render_missing)
        out.print(
            f"issue {issue_id}: queued {lanes} batch tasks for the workers",
            markup=False,
            highlight=False,
        )
        if detach:
            return

    def run(on_progress: Callable[[SendProgress], None], stop: threading.Event) -> SendResult:
        if broker:
            return watch(runtime, issue_id, on_progress=on_progress, stop=stop)
        return send_issue(
            runtime,
            issue_id,
            factory,
            on_progress=on_progress,
            stop=stop,
            render_missing=render_missing,
        )

    with _stop_on_signals() as stop:
        if out.is_terminal:
            with Progress(
                TextColumn("[bold]issue {task.fields[issue]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=out,
                transient=False,
            ) as bar:
                task = bar.add_task("send", total=None, issue=issue_id, detail="")

                def show(p: SendProgress) -> None:
                    done = p.sent + p.failed + p.skipped
                    detail = f"failed {p.failed} · retrying {p.retrying} · {p.rate:.0f} msg/s"
                    bar.update(task, total=p.total, completed=done, detail=detail)

                result = run(show, stop)
        else:
            last = [0.0]

            def note(p: SendProgress) -> None:
                now = time.monotonic()
                if now - last[0] >= LOG_EVERY:
                    last[0] = now
                    print(f"issue {issue_id}: {_line(p)}", flush=True)

            result = run(note, stop)
    c = result.counts
    summary = (
        f"issue {issue_id}: {result.status.value}; sent {c.sent}, failed {c.failed}, "
        f"skipped {c.skipped}, left {c.remaining} of {c.total}"
    )
    out.print(summary, markup=False, highlight=False, soft_wrap=True)
    if result.reason:
        out.print(result.reason, markup=False, highlight=False, soft_wrap=True)


def bounces_command(runtime: Runtime, path: Path) -> None:
    migrate.require_current(runtime.engine)
    report = process_mailbox(
        runtime.sessions,
        runtime.settings.signing_key(),
        path,
        runtime.clock.now(),
        runtime.settings.delivery.soft_bounce_limit,
    )
    out.print(
        f"{path}: {report.hard} hard bounces, {report.soft} soft bounces, "
        f"{report.complaints} complaints, {report.unsubscribes} unsubscribes; "
        f"{report.already_processed} already processed, {len(report.left_alone)} left alone",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for line in report.left_alone:
        out.print(f"  left alone: {line}", markup=False, highlight=False, soft_wrap=True)


def register(
    app: typer.Typer, digest_app: typer.Typer, runtime: Callable[[typer.Context], Runtime]
) -> None:
    """Add `digest send` and `bounces process` to the CLI."""

    @digest_app.command("send")
    def send(
        ctx: typer.Context,
        issue_id: Annotated[int, typer.Argument(metavar="ID", help="The issue to send.")],
        detach: Annotated[
            bool,
            typer.Option("--detach", help="With a broker: return once the batches are queued."),
        ] = False,
    ) -> None:
        """Send an approved issue; run it again to resume after a stop, a crash or a pause."""
        from newsletter.pipeline import variant_renderer

        current = runtime(ctx)
        send_command(current, issue_id, render_missing=variant_renderer(current), detach=detach)

    @bounces_app.command("process")
    def process(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="A maildir folder or an mbox file.")],
    ) -> None:
        """Read bounces and complaints and mark their subscribers; other mail is left alone."""
        bounces_command(runtime(ctx), path)

    app.add_typer(bounces_app, name="bounces")
    workers.register(app, digest_app, runtime)
