"""`newsletter digest send ID` (in this process or through workers) and `digest pause ID`.

Apart from the other digest commands: a send must not load the renderer or the web app.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newsletter.cli.output import out
from newsletter.cli.state import runtime_from
from newsletter.deliver.batch import Progress as SendProgress
from newsletter.deliver.state import pause as pause_sending
from newsletter.errors import SendError
from newsletter.pipeline import send as pipeline
from newsletter.pipeline.lookup import find_issue
from newsletter.runtime import Runtime

LOG_EVERY = 30.0


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


def _send(
    runtime: Runtime, issue_id: int, detach: bool = False, processes: int | None = None
) -> None:
    """Send an approved issue (or resume a stopped or paused one) to every eligible subscriber.

    With NEWSLETTER_BROKER_URL the batches go to `newsletter worker`s and this command watches
    the delivery rows (or, with `detach`, returns once they are queued). When the relay (or the
    outbox) refuses everything, the issue is paused with its deliveries pending, and SendError
    says why (exit 1). A sent issue is listed in the archive feed (newsletter.pipeline.send).
    Without a broker, `processes` sender processes share the issue (default: one per core); one
    that dies is reported and exits 1, even when the others sent its rows.
    """
    factory = runtime.transport
    count, fewer = pipeline.sender_processes(runtime.settings, processes)
    if fewer is not None:
        out.print(fewer, markup=False, highlight=False, soft_wrap=True)

    def queued(lanes: int) -> None:
        out.print(
            f"issue {issue_id}: queued {lanes} batch tasks for the workers",
            markup=False,
            highlight=False,
        )

    def run(on_progress: Callable[[SendProgress], None], stop: threading.Event) -> pipeline.Sending:
        return pipeline.send(
            runtime,
            issue_id,
            factory,
            on_queued=queued,
            on_progress=on_progress,
            stop=stop,
            processes=count,
        )

    if detach and runtime.settings.broker_url is not None:
        pipeline.send(runtime, issue_id, factory, wait=False, on_queued=queued)
        return
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

                sending = run(show, stop)
        else:
            last = [0.0]

            def note(p: SendProgress) -> None:
                now = time.monotonic()
                if now - last[0] >= LOG_EVERY:
                    last[0] = now
                    print(f"issue {issue_id}: {_line(p)}", flush=True)

            sending = run(note, stop)
    result = sending.result
    assert result is not None  # watched to the end, or sent here
    out.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
    if result.fault:
        # The relay or outbox refused everything: one line on stderr, and exit 1.
        raise SendError(result.reason or f"issue {issue_id} paused: the mail server failed")
    if result.crashed:
        left = (
            "the others sent its rows"
            if result.counts.remaining == 0
            else (f"run `newsletter digest send {issue_id}` again to send the rest")
        )
        raise SendError(f"{'; '.join(result.crashed)}; {left}")
    if result.reason:
        out.print(result.reason, markup=False, highlight=False, soft_wrap=True)


def send(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="The issue's number or key.")],
    detach: Annotated[
        bool,
        typer.Option("--detach", help="With a broker: return once the batches are queued."),
    ] = False,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            min=1,
            max=256,
            help="Without a broker: sender processes on this machine (default: one per core).",
        ),
    ] = None,
) -> None:
    """Send an approved issue; run it again to resume after a stop, a crash or a pause."""
    runtime = runtime_from(ctx)
    _send(runtime, find_issue(runtime, ident), detach=detach, processes=processes)


def pause(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="The issue's number or key.")],
) -> None:
    """Pause an issue being sent (in this process or by workers); `digest send` resumes it."""
    runtime = runtime_from(ctx)
    issue_id = find_issue(runtime, ident)
    reason = f"paused from the command line; run `newsletter digest send {issue_id}` to resume"
    if not pause_sending(runtime, issue_id, reason):
        raise SendError(f"issue {issue_id} is not being sent; only a sending issue can be paused")
    out.print(
        f"issue {issue_id}: paused; every sender stops after the batch in hand",
        markup=False,
        highlight=False,
    )
