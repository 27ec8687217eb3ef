"""compose → deliver → publish: send an issue (in process or by workers), then the archive feed."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.deliver.batch import Progress
from newsletter.deliver.plan import RenderVariant
from newsletter.deliver.relays import rate_limited
from newsletter.deliver.send import send_issue
from newsletter.deliver.state import SendResult
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssueStatus, IssueVariant
from newsletter.pipeline.receipts import receipt_keys
from newsletter.runtime import Runtime


@dataclass(frozen=True)
class Sending:
    """What became of a send: the lanes queued for the workers, and the result once known."""

    issue_id: int
    lanes: int = 0  # batch tasks queued for the workers; 0 when sent in this process
    result: SendResult | None = None  # None while the workers carry on unwatched

    def summary(self) -> str:
        if self.result is not None:
            return self.result.summary()
        return f"issue {self.issue_id}: queued {self.lanes} batch tasks for the workers"


def sender_processes(settings: Settings, requested: int | None) -> tuple[int, str | None]:
    """How many processes `digest send` runs without a broker, and why fewer, if fewer.

    Default: one per core. With a broker the workers send and this is 1. Several processes need
    a database they can all open (not SQLite in memory) and, for a relay's rate limit, Redis to
    share it (a limit per process would multiply the rate).
    """
    if settings.broker_url is not None:
        note = None
        if requested not in (None, 1):
            note = "--processes is ignored with a broker: the `newsletter worker`s send"
        return 1, note
    wanted = requested if requested is not None else (os.cpu_count() or 1)
    if wanted <= 1:
        return 1, None
    url = make_url(settings.database_url)
    in_memory = (url.database or ":memory:") == ":memory:" or "mode=memory" in str(url)
    if url.get_backend_name() == "sqlite" and in_memory:
        return 1, "sending in 1 process: an in-memory SQLite database is not shared"
    if rate_limited(settings) and not settings.shared_redis_url:
        return 1, (
            "sending in 1 process: a relay's rate limit is shared by several processes only "
            "through Redis; set NEWSLETTER_REDIS_URL to send with more"
        )
    return wanted, None


def variant_renderer(runtime: Runtime) -> RenderVariant:
    """Render and store the variant for a topic set no stored variant covers."""

    def render(session: Session, issue: Issue, topic_key: str) -> IssueVariant | None:
        # The renderer (Jinja, premailer, CSS parsing: 18 MB more) is loaded only when a send
        # meets such a topic set, so a send of a million messages does not carry it otherwise.
        from newsletter.digest.variants import ensure_variant

        return ensure_variant(
            session,
            issue,
            topic_key,
            runtime.settings,
            runtime.clock.now(),
            click_key=runtime.signing_key,
        )

    return render


def send(
    runtime: Runtime,
    issue_id: int,
    transport_factory: Callable[[], Transport] | None = None,
    *,
    wait: bool = True,
    on_queued: Callable[[int], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    processes: int = 1,
) -> Sending:
    """Send (or resume) an approved issue; once it is sent, the archive feed lists it.

    With a broker the workers send: the lanes are queued (`on_queued` hears how many) and, with
    `wait`, the delivery rows are watched until the issue is sent or paused (or `stop`). Without
    one it is sent in this process, or by `processes` child processes on this machine (see
    `sender_processes`). SendError when the issue cannot be sent (not approved, ...).
    """
    lanes = 0
    if runtime.settings.broker_url is not None:
        # Celery and kombu load only when there is a broker to talk to.
        from newsletter.deliver.dispatch import enqueue, watch

        lanes = enqueue(runtime, issue_id, variant_renderer(runtime), receipt_keys())
        if on_queued is not None:
            on_queued(lanes)
        if not wait:
            return Sending(issue_id, lanes)
        result = watch(runtime, issue_id, on_progress=on_progress, stop=stop)
    elif processes > 1:
        # The children import only the send path; the renderer stays in this process.
        from newsletter.deliver.processes import send_issue_by_processes

        result = send_issue_by_processes(
            runtime,
            issue_id,
            processes,
            render_missing=variant_renderer(runtime),
            recipient_keys=receipt_keys(),
            on_progress=on_progress,
            stop=stop,
        )
    else:
        result = send_issue(
            runtime,
            issue_id,
            transport_factory,
            render_missing=variant_renderer(runtime),
            recipient_keys=receipt_keys(),
            on_progress=on_progress,
            stop=stop,
        )
    # The worker that finished it rebuilt the feed too, maybe not yet: this caller's view of the
    # archive is current when it returns.
    publish_sent(runtime, result)
    return Sending(issue_id, lanes, result)


def publish_sent(runtime: Runtime, result: SendResult) -> None:
    """A sent issue appears in the archive feed (rebuilt with the site feeds; topics unchanged)."""
    if result.status != IssueStatus.SENT:
        return
    # The feed renderers (feedgen, lxml) load only when an issue has been sent.
    from newsletter.publish.rebuild import rebuild

    rebuild(runtime, set())
