"""deliver → publish for the workers: the lane that finds an issue sent lists it in the archive."""

from __future__ import annotations

import threading
from collections.abc import Callable

from newsletter.deliver.relays import Relay
from newsletter.deliver.tasks import run_lane
from newsletter.pipeline.send import publish_sent
from newsletter.runtime import Runtime


def send_lane(
    runtime: Runtime,
    issue_id: int,
    again: Callable[[float], None],
    relays: list[Relay] | None = None,
    stop: threading.Event | None = None,
) -> str:
    """A worker's batch task (newsletter.deliver.tasks.run_lane), then the archive feed."""
    return run_lane(
        runtime, issue_id, again, relays, stop, on_finished=lambda r: publish_sent(runtime, r)
    )
