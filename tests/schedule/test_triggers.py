"""Local time across daylight-saving changes: the triggers and the send slot agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from newsletter.config import load_settings
from newsletter.editors.review import next_slot
from newsletter.schedule.triggers import job_specs, weekly

NEW_YORK = ZoneInfo("America/New_York")


def _fires(slot: str, start: datetime, count: int) -> list[datetime]:
    trigger = weekly(slot, NEW_YORK)
    fires = [trigger.get_next_fire_time(None, start)]
    while len(fires) < count:
        fires.append(trigger.get_next_fire_time(fires[-1], fires[-1] + timedelta(seconds=1)))
    return fires


@pytest.mark.parametrize(
    ("start", "before_utc", "after_utc"),
    [
        # 2026-03-08: clocks go forward; Friday 10:00 is 15:00 UTC before, 14:00 UTC after.
        (datetime(2026, 2, 27, tzinfo=UTC), 15, 14),
        # 2026-11-01: clocks go back; 14:00 UTC before, 15:00 UTC after.
        (datetime(2026, 10, 16, tzinfo=UTC), 14, 15),
    ],
)
def test_friday_ten_stays_ten_local_across_a_dst_change(
    start: datetime, before_utc: int, after_utc: int
) -> None:
    fires = _fires("fri 10:00", start, 4)
    for fire in fires:
        local = fire.astimezone(NEW_YORK)
        assert (local.strftime("%a"), local.hour, local.minute) == ("Fri", 10, 0)
    hours = [fire.astimezone(UTC).hour for fire in fires]
    assert hours[0] == before_utc
    assert hours[-1] == after_utc
    # The gap between the two Fridays around the change is a week of wall time, not of UTC.
    utc = [fire.astimezone(UTC) for fire in fires]
    gaps = {utc[i + 1] - utc[i] for i in range(len(utc) - 1)}
    assert gaps == {timedelta(days=7), timedelta(days=7, hours=after_utc - before_utc)}


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 6, 14, 59, tzinfo=UTC),  # Friday 09:59 EST
        datetime(2026, 3, 7, 12, 0, tzinfo=UTC),  # Saturday before the change
        datetime(2026, 3, 8, 6, 30, tzinfo=UTC),  # the change itself (02:00 → 03:00 local)
        datetime(2026, 10, 30, 14, 0, tzinfo=UTC),  # Friday 10:00 EDT exactly
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 local, the hour that happens twice
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ],
)
def test_the_cron_trigger_and_the_editors_send_slot_agree(now: datetime) -> None:
    """The admin's default send time and the scheduler's trigger are one and the same instant."""
    trigger = weekly("fri 10:00", NEW_YORK)
    assert trigger.get_next_fire_time(None, now + timedelta(microseconds=1)) == next_slot(
        "fri 10:00", NEW_YORK, now
    )


def test_build_at_thursday_nine_local_across_november() -> None:
    fires = _fires("thu 09:00", datetime(2026, 10, 20, tzinfo=UTC), 3)
    assert [f.astimezone(NEW_YORK).strftime("%a %d %H:%M %Z") for f in fires] == [
        "Thu 22 09:00 EDT",
        "Thu 29 09:00 EDT",
        "Thu 05 09:00 EST",
    ]


def test_job_specs_follow_the_settings() -> None:
    settings = load_settings(
        digest={"build": "wed 07:30"},
        schedule={"collect_minutes": 5, "bounce_mailbox": "/var/mail/bounces"},
        site={"timezone": "Europe/Berlin"},
    )
    specs = {spec.id: spec for spec in job_specs(settings)}
    assert set(specs) == {"collect", "build", "send", "bounces", "tidy", "clicks", "webhooks"}
    assert str(specs["webhooks"].trigger) == "interval[0:01:00]"
    assert str(specs["tidy"].trigger) == "cron[hour='3', minute='17']"
    assert str(specs["build"].trigger) == "cron[day_of_week='wed', hour='7', minute='30']"
    assert str(specs["build"].trigger.timezone) == "Europe/Berlin"
    assert str(specs["collect"].trigger) == "interval[0:05:00]"
    options = specs["build"].options()
    assert options["coalesce"] is True
    assert options["max_instances"] == 1
    assert options["misfire_grace_time"] == 12 * 3600
    assert "bounces" not in {spec.id for spec in job_specs(load_settings())}
