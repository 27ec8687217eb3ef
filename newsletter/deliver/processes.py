"""Several sender processes on one machine, claiming from one issue as workers do; no broker.

The parent (`digest send --processes N`, newsletter.pipeline.send) plans the issue under the
issue lock, then starts N children and watches them. Each child runs the in-process loop
(newsletter.deliver.send.drain) with its own database connections and SMTP connections, under a
claim holder name the parent chose, so:

- rows are shared by claims (newsletter.deliver.claim), renewed by each child's heartbeat;
- a child that dies (SIGKILL, a crash) has its claims freed by the parent at once, and the
  others send those rows; only the messages it had sent but not yet recorded can go twice,
  the same window (batch_size + connections) as one sender killed;
- SIGTERM or Ctrl-C: the parent passes SIGTERM on; each child finishes the messages in flight,
  records them and gives its other rows back;
- a child whose relay refuses everything pauses the issue (every other child stops at its next
  batch) and exits with FAULT; a child whose parent died stops as if it had been sent SIGTERM.

Children are spawned, not forked: each builds its runtime in its own process (no connection or
lock crosses a fork), and none inherits the parent's issue lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

from newsletter.config import Settings
from newsletter.deliver import setup as setup_module
from newsletter.deliver.batch import open_sender
from newsletter.deliver.claim import LOCAL, holder_name, release_holder, release_local
from newsletter.deliver.lock import issue_lock
from newsletter.deliver.plan import (
    RecipientKeys,
    RenderVariant,
    delivery_counts,
    no_variant,
    same_keys,
)
from newsletter.deliver.relays import relays_for
from newsletter.deliver.send import STOPPED, drain
from newsletter.deliver.setup import mail_setup
from newsletter.deliver.state import SendResult, finish, pause, start
from newsletter.deliver.tally import Progress, progress_of
from newsletter.errors import first_line
from newsletter.models import IssueStatus
from newsletter.runtime import Runtime

# A child's exit codes; anything else (a signal's negative number too) is a crash.
DONE = 0
FAULT = 3
CRASHED = 4
POLL = 1.0
# As the in-process sender's: a later `digest send` frees what a dead one left (release_local).
KIND = LOCAL.rstrip(":")


@dataclass
class Child:
    number: int
    token: str  # the child names its claims with its pid and this (claim.holder_name)
    process: BaseProcess
    exitcode: int | None = None

    @property
    def holder(self) -> str:
        return holder_name(KIND, pid=self.process.pid, token=self.token)

    def describe(self) -> str:
        code = self.exitcode
        how = (
            f"was killed by signal {-code}"
            if code is not None and code < 0
            else (f"exited with code {code}")
        )
        return f"sender process {self.number} (pid {self.process.pid}) {how}"


@dataclass
class Fleet:
    """How the children ended: which crashed, and whether one paused the issue for a fault."""

    crashed: list[str] = field(default_factory=list)
    fault: bool = False
    released: int = 0  # rows the crashed children held, given back to the others


def send_issue_by_processes(
    runtime: Runtime,
    issue_id: int,
    count: int,
    *,
    render_missing: RenderVariant = no_variant,
    recipient_keys: RecipientKeys = same_keys,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SendResult:
    """send_issue's counterpart with `count` sender processes; the parent holds the issue lock."""
    # Checked (and warned about) once here, not once per child: a DKIM key that cannot be read
    # is one clear error before anything starts.
    mail_setup(runtime.settings, runtime.signing_key)
    with issue_lock(runtime.engine, runtime.settings.var_dir, issue_id):
        start(runtime, issue_id, render_missing, recipient_keys)
        release_local(runtime.sessions, issue_id)
        fleet = run_processes(runtime, issue_id, count, on_progress=on_progress, stop=stop)
        result = finish(runtime, issue_id, None, STOPPED)
    fault = fleet.fault and result.status == IssueStatus.PAUSED
    return replace(result, fault=fault, crashed=tuple(fleet.crashed))


def run_processes(
    runtime: Runtime,
    issue_id: int,
    count: int,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> Fleet:
    """Send a planned, sending issue with `count` child processes until none is left running."""
    stop = stop or threading.Event()
    context = multiprocessing.get_context("spawn")
    children: list[Child] = []
    for number in range(1, count + 1):
        token = uuid.uuid4().hex[:8]
        process = context.Process(
            target=child_main,
            args=(runtime.settings, issue_id, token),
            name=f"newsletter sender {number}",
        )
        children.append(Child(number, token, process))
    fleet = Fleet()
    started = time.monotonic()
    with runtime.sessions() as session:
        sent_before = delivery_counts(session, issue_id).sent
    signalled = False
    try:
        for child in children:
            child.process.start()
        while running := [c for c in children if c.exitcode is None]:
            wait([c.process.sentinel for c in running], timeout=POLL)
            for child in running:
                if child.process.is_alive():
                    continue
                child.process.join()
                child.exitcode = child.process.exitcode
                _ended(runtime, child, fleet, signalled)
            with runtime.sessions() as session:
                counts = delivery_counts(session, issue_id)
            if on_progress is not None:
                on_progress(progress_of(counts, started, sent_before))
            # Nothing left open: the children still polling for work are told to stop now
            # rather than at their next poll (up to five seconds on).
            if (stop.is_set() or counts.remaining == 0) and not signalled:
                signalled = True
                for child in children:
                    if child.exitcode is None and child.process.is_alive():
                        child.process.terminate()
    finally:
        for child in children:
            if child.process.is_alive():
                child.process.terminate()
            child.process.join()
    return fleet


def _ended(runtime: Runtime, child: Child, fleet: Fleet, signalled: bool) -> None:
    # A child told to stop before it had set up its handler (still starting) held nothing.
    if child.exitcode == DONE or (signalled and child.exitcode == -signal.SIGTERM):
        return
    if child.exitcode == FAULT:
        fleet.fault = True
        return
    # Dead for sure (joined): no other sender can be holding these rows under its name.
    released = release_holder(runtime.sessions, child.holder)
    fleet.released += released
    fleet.crashed.append(child.describe())


def child_main(settings: Settings, issue_id: int, token: str) -> None:
    """One sender process: batches until nothing is left, a stop, a pause, or its parent's end."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A parent SIGKILLed leaves nobody to watch: stop as if told to, recording what is sent.
        sentinel = parent.sentinel

        def watch_parent() -> None:
            wait([sentinel])
            stop.set()

        threading.Thread(target=watch_parent, name="parent watch", daemon=True).start()
    holder = holder_name(KIND, token=token)
    try:
        code = _send(settings, issue_id, holder, stop)
    except Exception as exc:  # one line for the parent's report; no traceback for the user
        print(f"sender {holder}: {first_line(exc)}", file=sys.stderr, flush=True)
        code = CRASHED
    sys.exit(code)


def _send(settings: Settings, issue_id: int, holder: str, stop: threading.Event) -> int:
    # The parent said what mail_setup has to say about the settings; N copies would add nothing.
    logging.getLogger(setup_module.__name__).setLevel(logging.ERROR)
    runtime = Runtime.build(settings)
    try:
        # Any relay limit is shared through Redis (the parent falls back to one process
        # otherwise), so no child needs the last hour's sends counted for itself.
        relays = relays_for(settings, runtime.transport)
        sender = open_sender(runtime, issue_id, relays, holder, stop=stop)
        with sender:
            drain(runtime, issue_id, sender, stop)
        if sender.pause_reason is not None:
            pause(runtime, issue_id, sender.pause_reason)
            return FAULT
        return DONE
    finally:
        runtime.close()
