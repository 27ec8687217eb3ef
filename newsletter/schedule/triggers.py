"""Which job runs when: APScheduler triggers from the settings, on the site's wall clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter.config import Settings, mask_url

# Interval jobs that fall behind (a long collect, a sleeping laptop) simply run at the next
# tick: a few minutes of grace, then the missed tick is skipped.
INTERVAL_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", as the job store keeps it
    trigger: BaseTrigger
    grace: timedelta
    what: str  # short, for `newsletter schedule`
    when: str

    def options(self) -> dict[str, Any]:
        """Coalesce: after downtime the job runs once for all the times it missed."""
        return {
            "id": self.id,
            "name": self.what,
            "func": self.func,
            "trigger": self.trigger,
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(self.grace.total_seconds()),
        }


def weekly(slot: str, zone: ZoneInfo) -> CronTrigger:
    """ "thu 09:00" as a cron trigger in the zone: 09:00 local on either side of a DST change."""
    day, clock = slot.split()
    hour, minute = clock.split(":")
    return CronTrigger(day_of_week=day, hour=int(hour), minute=int(minute), timezone=zone)


def every(seconds: float, zone: ZoneInfo) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds, timezone=zone)


def job_specs(settings: Settings) -> list[JobSpec]:
    """Every job the settings ask for; serve adds, updates and removes stored jobs to match."""
    zone = settings.zone
    schedule = settings.schedule
    specs = [
        JobSpec(
            "collect",
            "newsletter.schedule.jobs:collect_job",
            every(schedule.collect_minutes * 60, zone),
            INTERVAL_GRACE,
            "collect all sources, rebuild changed feeds",
            f"every {_amount(schedule.collect_minutes)} min",
        ),
        JobSpec(
            "build",
            "newsletter.schedule.jobs:build_job",
            weekly(settings.digest.build, zone),
            timedelta(hours=schedule.build_grace_hours),
            "build the weekly draft, email editors",
            f"{settings.digest.build} local",
        ),
        JobSpec(
            "send",
            "newsletter.schedule.jobs:send_job",
            every(schedule.send_poll_seconds, zone),
            INTERVAL_GRACE,
            f"send due issues, resume, retry; hold unapproved at {settings.digest.send}",
            f"every {_amount(schedule.send_poll_seconds)} s",
        ),
        JobSpec(
            "tidy",
            "newsletter.schedule.jobs:tidy_job",
            CronTrigger(hour=3, minute=17, timezone=zone),
            timedelta(hours=12),
            "forget expired signup rate-limit counters, delete old unconfirmed signups",
            "daily 03:17 local",
        ),
        JobSpec(
            "webhooks",
            "newsletter.schedule.jobs:webhooks_job",
            every(60, zone),
            INTERVAL_GRACE,
            "queue subscriber and issue events for webhook endpoints, send them",
            "every 60 s",
        ),
        JobSpec(
            "clicks",
            "newsletter.schedule.jobs:clicks_job",
            CronTrigger(hour=3, minute=47, timezone=zone),
            timedelta(hours=12),
            f"fold click events older than {settings.analytics.retention_days} days into counts",
            "daily 03:47 local",
        ),
    ]
    others = [c for c in settings.digest.cadences if c != "weekly"]
    if others:
        specs.append(
            JobSpec(
                "cadences",
                "newsletter.schedule.jobs:cadences_job",
                every(60, zone),
                INTERVAL_GRACE,
                f"build the daily digest at {settings.digest.daily_send} and each story's "
                "email as readers chose",
                "every 60 s",
            )
        )
    if schedule.bounce_mailbox is not None:
        specs.append(
            JobSpec(
                "bounces",
                "newsletter.schedule.jobs:bounces_job",
                every(schedule.bounce_minutes * 60, zone),
                INTERVAL_GRACE,
                f"process bounces in {mask_url(schedule.bounce_mailbox)}",
                f"every {_amount(schedule.bounce_minutes)} min",
            )
        )
    return specs


def _amount(value: float) -> str:
    return f"{value:g}"
