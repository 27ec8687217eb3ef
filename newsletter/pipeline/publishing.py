"""collect → publish: new and changed posts rebuild the feeds they appear in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from newsletter.collect.item import RawItem
from newsletter.collect.run import Accepted, CollectReport, SourceReport, accept, collect
from newsletter.collect.store import Outcome
from newsletter.pipeline.alerts import tell_source_alerts
from newsletter.publish.rebuild import rebuild
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)


def collect_and_publish(
    runtime: Runtime,
    names: Sequence[str] = (),
    on_source: Callable[[SourceReport], None] | None = None,
) -> CollectReport:
    """collect → publish: feeds are rebuilt only for the topics whose posts changed.

    Then editors hear of a source newly in trouble or out of it (once: see pipeline/alerts.py).
    """
    report = collect(runtime, names, on_source=on_source)
    if report.changed:
        rebuild(runtime, report.topics)
    for line in tell_source_alerts(runtime):
        log.warning("%s", line)
    return report


def accept_and_publish(runtime: Runtime, source_name: str, raw: RawItem) -> Accepted:
    """A post pushed by the CMS is stored, then rebuilds the feeds of the topics it changed."""
    accepted = accept(runtime, source_name, raw)
    if accepted.outcome in (Outcome.NEW, Outcome.UPDATED):
        rebuild(runtime, set(accepted.topics))
    return accepted
