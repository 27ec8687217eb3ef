"""When daily digests and single-story emails are due: DST, quiet hours, grouping, bounds."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from newsletter.digest.cadence_times import (
    MAX_STORIES,
    coalesce,
    daily_window,
    in_quiet_hours,
    next_daily,
    story_due,
)

ZONE = ZoneInfo("America/New_York")
YEAR = 2026
QUIET = (time(21, 0), time(7, 0))
DAY = date(YEAR, 6, 10)  # an ordinary summer day (EDT, UTC-4)


def _dst_changes(year: int) -> tuple[date, date]:
    """The local days (spring forward, fall back) in New York, found from the zone itself."""
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(365)]
    noons = [(day, datetime.combine(day, time(12), tzinfo=ZONE).utcoffset()) for day in days]
    changes = [day for (_, before), (day, after) in pairwise(noons) if before != after]
    assert len(changes) == 2
    assert all(change.weekday() == 6 for change in changes)  # the change happens on a Sunday
    return changes[0], changes[1]


SPRING, FALL = _dst_changes(YEAR)


def local(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A wall time in New York, as UTC: adding to it then counts real minutes, not wall ones."""
    wall = datetime.combine(day, time(hour, minute), tzinfo=ZONE).replace(fold=fold)
    return wall.astimezone(UTC)


# next_daily


def test_the_next_daily_send_is_today_until_it_passes_then_tomorrow() -> None:
    seven = time(7, 0)
    assert next_daily(local(DAY, 6, 59), ZONE, seven) == local(DAY, 7)
    assert next_daily(local(DAY, 7), ZONE, seven) == local(DAY + timedelta(days=1), 7)
    assert next_daily(local(DAY, 23), ZONE, seven) == local(DAY + timedelta(days=1), 7)
    assert next_daily(local(DAY, 6), ZONE, seven).tzinfo is UTC


def test_the_local_day_decides_not_the_utc_one() -> None:
    evening = local(DAY, 22)  # already tomorrow in UTC
    assert evening.astimezone(UTC).date() == DAY + timedelta(days=1)
    assert next_daily(evening, ZONE, time(23, 30)) == local(DAY, 23, 30)


def test_a_send_time_skipped_by_spring_forward_goes_when_the_clocks_have_jumped() -> None:
    eve = SPRING - timedelta(days=1)
    send = next_daily(local(eve, 12), ZONE, time(2, 30))
    assert send.astimezone(ZONE).replace(tzinfo=None) == datetime.combine(SPRING, time(3, 0))
    # The day after, 02:30 exists again.
    assert next_daily(send, ZONE, time(2, 30)) == local(SPRING + timedelta(days=1), 2, 30)


def test_seven_oclock_stays_seven_oclock_across_both_changes() -> None:
    eve = SPRING - timedelta(days=1)
    before = next_daily(local(eve, 6), ZONE, time(7))
    after = next_daily(before, ZONE, time(7))
    assert after - before == timedelta(hours=23)
    assert after.astimezone(ZONE).time() == time(7)
    eve = FALL - timedelta(days=1)
    before = next_daily(local(eve, 6), ZONE, time(7))
    after = next_daily(before, ZONE, time(7))
    assert after - before == timedelta(hours=25)


def test_a_send_time_repeated_by_fall_back_goes_once_at_its_first_occurrence() -> None:
    first = next_daily(local(FALL, 0), ZONE, time(1, 30))
    assert first == local(FALL, 1, 30, fold=0)
    assert first.astimezone(ZONE).utcoffset() == timedelta(hours=-4)  # still EDT
    # From the first occurrence on, the next send is the next day, not the repeat an hour on.
    assert next_daily(first, ZONE, time(1, 30)) == local(FALL + timedelta(days=1), 1, 30)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="now must carry a time zone"):
        next_daily(datetime(YEAR, 6, 10, 12), ZONE, time(7))


# daily_window


def test_a_daily_window_reaches_back_the_lookback() -> None:
    send = local(DAY, 7)
    assert daily_window(send, 36) == (send - timedelta(hours=36), send)
    with pytest.raises(ValueError, match="lookback_hours"):
        daily_window(send, 0)


# story_due


def test_without_quiet_hours_a_story_is_due_after_the_delay() -> None:
    published = local(DAY, 23, 50)
    assert story_due(published, 15, None, ZONE) == published + timedelta(minutes=15)
    assert story_due(published, 0, None, ZONE) == published


@pytest.mark.parametrize(
    ("published", "delay", "due"),
    [
        # Due before the window: sent as is.
        (local(DAY, 20, 30), 15, local(DAY, 20, 45)),
        # Due exactly at the start: the window holds it until morning.
        (local(DAY, 21), 0, local(DAY + timedelta(days=1), 7)),
        (local(DAY, 20, 45), 15, local(DAY + timedelta(days=1), 7)),
        # Due before midnight or after it: the same morning's end.
        (local(DAY, 23, 50), 15, local(DAY + timedelta(days=1), 7)),
        (local(DAY, 3), 15, local(DAY, 7)),
        # Due exactly at the end: it goes.
        (local(DAY, 7), 0, local(DAY, 7)),
        (local(DAY, 6, 45), 15, local(DAY, 7)),
        (local(DAY, 6, 50), 15, local(DAY, 7, 5)),
    ],
)
def test_quiet_hours_across_midnight_hold_a_story_until_they_end(
    published: datetime, delay: int, due: datetime
) -> None:
    assert story_due(published, delay, QUIET, ZONE) == due


def test_a_window_within_one_day() -> None:
    lunch = (time(12), time(13))
    assert story_due(local(DAY, 11, 50), 15, lunch, ZONE) == local(DAY, 13)
    assert story_due(local(DAY, 13), 15, lunch, ZONE) == local(DAY, 13, 15)
    assert story_due(local(DAY, 23), 15, lunch, ZONE) == local(DAY, 23, 15)


def test_a_quiet_night_over_a_change_ends_at_seven_local() -> None:
    for change, hours in ((SPRING, 8), (FALL, 10)):
        evening = local(change - timedelta(days=1), 22)
        due = story_due(evening, 0, QUIET, ZONE)
        assert due == local(change, 7)
        assert due - evening == timedelta(hours=hours)


def test_a_window_ending_in_the_spring_gap_ends_when_the_clocks_jump() -> None:
    due = story_due(local(SPRING, 1), 0, (time(21), time(2, 30)), ZONE)
    assert due.astimezone(ZONE).replace(tzinfo=None) == datetime.combine(SPRING, time(3))


def test_in_the_repeated_hour_a_window_ends_at_the_next_occurrence_of_its_end() -> None:
    window = (time(21), time(1, 30))
    first_pass = local(FALL, 1, 10, fold=0)
    second_pass = local(FALL, 1, 10, fold=1)
    assert story_due(first_pass, 0, window, ZONE) == local(FALL, 1, 30, fold=0)
    assert story_due(second_pass, 0, window, ZONE) == local(FALL, 1, 30, fold=1)


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="delay_minutes"):
        story_due(local(DAY, 12), -1, None, ZONE)


# coalesce


def test_a_burst_within_the_delay_is_one_email() -> None:
    start = local(DAY, 12)
    burst = [(30, start + timedelta(minutes=14)), (10, start), (20, start + timedelta(minutes=5))]
    assert coalesce(burst, 15, QUIET, ZONE) == [(start + timedelta(minutes=15), [10, 20, 30])]


def test_a_steady_stream_cannot_put_an_email_off() -> None:
    start = local(DAY, 12)
    stream = [(n, start + timedelta(minutes=10 * n)) for n in range(7)]
    groups = coalesce(stream, 15, None, ZONE)
    # Each email is due 15 minutes after its first story; the story 10 minutes in rides along,
    # the one 20 minutes in comes after that email has gone and opens the next.
    assert groups == [
        (start + timedelta(minutes=15), [0, 1]),
        (start + timedelta(minutes=35), [2, 3]),
        (start + timedelta(minutes=55), [4, 5]),
        (start + timedelta(minutes=75), [6]),
    ]


def test_a_story_published_as_its_group_goes_opens_the_next() -> None:
    start = local(DAY, 12)
    stories = [(1, start), (2, start + timedelta(minutes=15))]
    assert coalesce(stories, 15, None, ZONE) == [
        (start + timedelta(minutes=15), [1]),
        (start + timedelta(minutes=30), [2]),
    ]


def test_a_night_of_stories_is_one_morning_email() -> None:
    night = [(n, local(DAY, 20, 50) + timedelta(hours=n)) for n in range(10)]  # 20:50 .. 05:50
    assert coalesce(night, 15, QUIET, ZONE) == [
        (local(DAY + timedelta(days=1), 7), list(range(10)))
    ]


def test_the_input_is_bounded_and_ids_unique() -> None:
    start = local(DAY, 12)
    most = [(n, start + timedelta(milliseconds=n)) for n in range(MAX_STORIES)]
    assert len(coalesce(most, 15, None, ZONE)) == 1
    with pytest.raises(ValueError, match=f"at most {MAX_STORIES} stories"):
        coalesce([*most, (MAX_STORIES, start)], 15, None, ZONE)
    with pytest.raises(ValueError, match="appears twice"):
        coalesce([(1, start), (1, start + timedelta(minutes=1))], 15, None, ZONE)
    assert coalesce([], 15, None, ZONE) == []


@pytest.mark.parametrize("seed", range(40))
def test_every_story_lands_once_in_a_group_that_is_due_neither_early_nor_in_quiet_hours(
    seed: int,
) -> None:
    # Hypothesis is not among the project's dependencies: seeded random cases instead, spread
    # over days that include both clock changes.
    rng = random.Random(seed)
    days = [SPRING - timedelta(days=1), SPRING, FALL - timedelta(days=1), FALL, DAY]
    base = local(rng.choice(days), 0)
    stories = [
        (post_id, base + timedelta(minutes=rng.randrange(3 * 24 * 60)))
        for post_id in rng.sample(range(1, 10_000), rng.randrange(1, 200))
    ]
    delay = rng.choice([0, 1, 15, 60, 1440])
    quiet = rng.choice([None, QUIET, (time(1), time(2, 30)), (time(12), time(13))])
    published = dict(stories)

    groups = coalesce(stories, delay, quiet, ZONE)

    ids = [post_id for _, members in groups for post_id in members]
    assert sorted(ids) == sorted(published)
    dues = [due for due, _ in groups]
    assert dues == sorted(dues)
    for due, members in groups:
        times = [published[post_id] for post_id in members]
        assert times == sorted(times)
        assert due >= times[0] + timedelta(minutes=delay)
        assert all(when < due for when in times[1:])
        assert not in_quiet_hours(due, quiet, ZONE)
