"""compose → deliver → publish: send an issue (in process or by workers), then the archive feed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from newsletter.deliver.batch import Progress
from newsletter.deliver.plan import RecipientKeys, RenderVariant
from newsletter.deliver.send import send_issue
from newsletter.deliver.state import SendResult
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssueStatus, IssueVariant
from newsletter.pipeline.same_day import same_day_keys
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


def recipient_keys(runtime: Runtime) -> RecipientKeys:
    """The same-day rule (pipeline/same_day.py) as of now, in the site's time zone."""
    settings = runtime.settings
    return same_day_keys(runtime.clock.now(), settings.zone, settings.digest.max_posts)


def send(
    runtime: Runtime,
    issue_id: int,
    transport_factory: Callable[[], Transport] | None = None,
    *,
    wait: bool = True,
    on_queued: Callable[[int], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> Sending:
    """Send (or resume) an approved issue; once it is sent, the archive feed lists it.

    With a broker the workers send: the lanes are queued (`on_queued` hears how many) and, with
    `wait`, the delivery rows are watched until the issue is sent or paused (or `stop`). Without
    one it is sent in this process. SendError when the issue cannot be sent (not approved, ...).
    """
    lanes = 0
    if runtime.settings.broker_url is not None:
        # Celery and kombu load only when there is a broker to talk to.
        from newsletter.deliver.dispatch import enqueue, watch

        lanes = enqueue(runtime, issue_id, variant_renderer(runtime), recipient_keys(runtime))
        if on_queued is not None:
            on_queued(lanes)
        if not wait:
            return Sending(issue_id, lanes)
        result = watch(runtime, issue_id, on_progress=on_progress, stop=stop)
    else:
        result = send_issue(
            runtime,
            issue_id,
            transport_factory,
            render_missing=variant_renderer(runtime),
            recipient_keys=recipient_keys(runtime),
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
