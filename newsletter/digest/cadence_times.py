"""When daily digests and single-story emails are due: pure rules on aware datetimes, no database.

Local times are wall-clock times in the site's zone. A wall time that does not exist (skipped
by a spring-forward change, like 02:30 in New York on the second Sunday of March) means the
first valid instant after the gap (03:00 that day); one that happens twice (fall back) means
its first occurrence, unless that is already behind us. Quiet hours are [start, end): a story
due exactly at the start waits, one due exactly at the end goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# coalesce refuses more stories than this: one run never has to hold an unbounded list, and
# more than this many unsent stories means something upstream is wrong.
MAX_STORIES = 10_000

QuietHours = tuple[time, time] | None


def next_daily(now: datetime, zone: ZoneInfo, daily_send: time) -> datetime:
    """The next instant (UTC) strictly after now at daily_send, local time in zone."""
    now = _utc(now, "now")
    today = now.astimezone(zone).date()
    # Today, else tomorrow; a third day is a margin for zones whose clock changes cross midnight.
    for ahead in range(3):
        candidate = _wall_time(today + timedelta(days=ahead), daily_send, zone)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a later day's send time is always later")


def daily_window(send_at: datetime, lookback_hours: int) -> tuple[datetime, datetime]:
    """The stories a digest sent at send_at looks at: published in [start, send_at)."""
    send_at = _utc(send_at, "send_at")
    if lookback_hours < 1:
        raise ValueError("lookback_hours must be at least 1")
    return send_at - timedelta(hours=lookback_hours), send_at


def story_due(
    published_at: datetime, delay_minutes: int, quiet: QuietHours, zone: ZoneInfo
) -> datetime:
    """When a story's email may go (UTC): published_at + delay, or the end of quiet hours."""
    if delay_minutes < 0:
        raise ValueError("delay_minutes must not be negative")
    return _after_quiet(
        _utc(published_at, "published_at") + timedelta(minutes=delay_minutes), quiet, zone
    )


def coalesce(
    stories: Sequence[tuple[int, datetime]],
    delay_minutes: int,
    quiet: QuietHours,
    zone: ZoneInfo,
) -> list[tuple[datetime, list[int]]]:
    """Group (post id, published at) into emails: [(due, ids in published order)], by due time.

    A story joins the open group when it is published strictly before that group's due time.
    The due time is story_due of the group's first story, so a steady stream of stories cannot
    put an email off for ever; later stories in a group get less than the full delay.
    """
    if len(stories) > MAX_STORIES:
        raise ValueError(f"at most {MAX_STORIES} stories at a time, not {len(stories)}")
    if len({post_id for post_id, _ in stories}) != len(stories):
        raise ValueError("a post id appears twice")
    timeline = sorted((_utc(published, "published_at"), post_id) for post_id, published in stories)
    groups: list[tuple[datetime, list[int]]] = []
    for published, post_id in timeline:
        if groups and published < groups[-1][0]:
            groups[-1][1].append(post_id)
        else:
            groups.append((story_due(published, delay_minutes, quiet, zone), [post_id]))
    return groups


def in_quiet_hours(moment: datetime, quiet: QuietHours, zone: ZoneInfo) -> bool:
    """Whether moment's local time falls in [start, end), the window perhaps crossing midnight."""
    if quiet is None:
        return False
    start, end = quiet
    local = moment.astimezone(zone).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _after_quiet(due: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    if quiet is None or not in_quiet_hours(due, quiet, zone):
        return due
    start, end = quiet
    local = due.astimezone(zone)
    # Past the start of a window that crosses midnight, it ends tomorrow; otherwise today.
    crosses = start > end and local.time().replace(tzinfo=None) >= start
    end_day = local.date() + timedelta(days=1 if crosses else 0)
    ends = _wall_time(end_day, end, zone)
    if ends <= due:  # the end's first occurrence of a repeated hour has passed: the second
        ends = datetime.combine(end_day, end, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return ends


def _wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """day at local time `at`, as UTC: a skipped time gives the gap's end, a repeated its first."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone)  # fold=0: the first occurrence, or before-gap offset
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # In a gap, fold=1 reads the time with the offset after the change and fold=0 with the one
    # before: the change lies between the two readings. zoneinfo does not expose transitions,
    # so find it by halving that span (about a dozen steps for an hour's gap).
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    after = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _utc(moment: datetime, name: str) -> datetime:
    """moment in UTC, refused when naive.

    Arithmetic and comparisons in UTC: Python adds to and compares two datetimes of one zone
    by their wall times, which is wrong across a clock change.
    """
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone")
    return moment.astimezone(UTC)
