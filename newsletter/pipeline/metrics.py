"""deliver, collect, issues → /metrics: figures read from the database at each scrape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, or_, select

from newsletter.deliver.plan import delivery_counts
from newsletter.metrics import REGISTRY
from newsletter.models import DeliveryStatus, Issue, IssueStatus, Source
from newsletter.runtime import Runtime

# Deliveries are counted for the issues sending now and those sent this recently: each is an
# index range, so a scrape stays cheap however many issues the years have sent.
RECENT = timedelta(days=14)
LIVE = (IssueStatus.SENDING, IssueStatus.PAUSED)


class DatabaseFigures(Collector):
    """Issues, deliveries and sources as they stand, whichever process moved them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        now = self.runtime.clock.now()
        issues = GaugeMetricFamily("newsletter_issues", "Issues by status.", labels=["status"])
        deliveries = GaugeMetricFamily(
            "newsletter_deliveries",
            "Deliveries of the issues sending or sent in the last 14 days, by issue and outcome.",
            labels=["issue", "status"],
        )
        retrying = GaugeMetricFamily(
            "newsletter_retry_queue", "Deliveries waiting to be tried again (deferred)."
        )
        runs = CounterMetricFamily(
            "newsletter_collect_runs", "Collect runs per source.", labels=["source"]
        )
        errors = CounterMetricFamily(
            "newsletter_collect_errors", "Collect runs that failed, per source.", labels=["source"]
        )
        failing = GaugeMetricFamily(
            "newsletter_source_failures_in_row",
            "Failed runs since the last good one.",
            labels=["source"],
        )
        with self.runtime.sessions() as session:
            by_status = {
                status: count
                for status, count in session.execute(
                    select(Issue.status, func.count()).group_by(Issue.status)
                )
            }
            for issue_status in IssueStatus:
                issues.add_metric([issue_status.value], by_status.get(issue_status, 0))
            recent = session.execute(
                select(Issue.id, Issue.key).where(
                    or_(Issue.status.in_(LIVE), Issue.sent_at >= now - RECENT)
                )
            ).all()
            waiting = 0
            for issue_id, key in recent:
                counted = delivery_counts(session, issue_id)
                for status in DeliveryStatus:
                    deliveries.add_metric([key, status.value], getattr(counted, status.value))
                waiting += counted.deferred
            retrying.add_metric([], waiting)
            for name, total, failed, in_row in session.execute(
                select(Source.name, Source.runs_total, Source.errors_total, Source.failures_in_row)
                .where(Source.enabled.is_(True))
                .order_by(Source.name)
            ):
                runs.add_metric([name], total or 0)
                errors.add_metric([name], failed or 0)
                failing.add_metric([name], in_row or 0)
        yield from (issues, deliveries, retrying, runs, errors, failing)


def registry_for(runtime: Runtime) -> CollectorRegistry:
    """This process's counters and the database's figures, as one scrape."""
    registry = CollectorRegistry()
    registry.register(_Counters())
    registry.register(DatabaseFigures(runtime))
    return registry


class _Counters(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
