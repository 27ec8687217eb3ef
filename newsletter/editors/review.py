"""What editors do to an issue: approve, take back, cancel, send now; edits reopen a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from newsletter.errors import ReviewError
from newsletter.issue_status import move
from newsletter.models import Issue, IssueStatus

__all__ = ["ReviewError"]  # raised here; callers catch it as review.ReviewError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EDITABLE = (IssueStatus.DRAFT, IssueStatus.APPROVED)


def next_slot(slot: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The next "fri 10:00" after now, as wall time in the zone (so DST changes keep 10:00)."""
    day, clock = slot.split()
    hour, minute = (int(part) for part in clock.split(":"))
    local = now.astimezone(zone)
    ahead = (WEEKDAYS.index(day) - local.weekday()) % 7
    for extra in (0, 7):
        date = local.date() + timedelta(days=ahead + extra)
        candidate = datetime(date.year, date.month, date.day, hour, minute, tzinfo=zone)
        if candidate > local:
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable: a week ahead is always later")


def parse_send_time(value: str, zone: ZoneInfo, now: datetime) -> datetime:
    """ "now", or an ISO 8601 date and time; without an offset it is wall time in `zone`.

    ValueError, with a one-line message, when it is neither.
    """
    text = value.strip()
    if text.lower() == "now":
        return now
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ValueError(
            f"{shown!r} is not a date and time: give ISO 8601, like 2026-12-04T10:00 "
            "(the site's time zone) or 2026-12-04T10:00-05:00, or now"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def approve(issue: Issue, editor: str, now: datetime, send_at: datetime) -> None:
    if issue.status == IssueStatus.DRAFT and not issue.variants:
        raise ReviewError(f"issue {issue.key} has not been rendered yet; nothing to approve")
    if issue.status == IssueStatus.DRAFT and send_at < now - timedelta(minutes=1):
        raise ReviewError("the send time is in the past")
    move(issue, IssueStatus.APPROVED, now)
    issue.approved_at = now
    issue.approved_by = editor
    issue.send_at = send_at


def unapprove(issue: Issue, now: datetime) -> None:
    if issue.status != IssueStatus.APPROVED or issue.sending_started_at is not None:
        raise ReviewError(
            f"issue {issue.key} is {issue.status}; only an approved issue that "
            "has not started sending can go back to draft"
        )
    move(issue, IssueStatus.DRAFT, now)


def editable(issue: Issue) -> bool:
    """A draft or approved issue can be edited until it starts sending; then it is what went out."""
    return issue.status in EDITABLE and issue.sending_started_at is None


def reopen_after_edit(issue: Issue, now: datetime) -> None:
    """Any edit after approval returns the issue to draft: what was approved is not what is."""
    if not editable(issue):
        why = "has started sending" if issue.status in EDITABLE else f"is {issue.status}"
        raise ReviewError(f"issue {issue.key} {why}; it can no longer be edited")
    if issue.status == IssueStatus.APPROVED:
        move(issue, IssueStatus.DRAFT, now, "edited after approval")
    issue.updated_at = now


def cancel(issue: Issue, now: datetime) -> None:
    move(issue, IssueStatus.CANCELLED, now, "cancelled by an editor")


def send_now(issue: Issue, editor: str, now: datetime) -> None:
    """Approve (if still a draft) with a send time of now."""
    if issue.status == IssueStatus.DRAFT:
        approve(issue, editor, now, now)
    elif issue.status == IssueStatus.APPROVED:
        issue.send_at = now
        issue.updated_at = now
    elif issue.status != IssueStatus.PAUSED:
        raise ReviewError(f"issue {issue.key} is {issue.status}; it cannot be sent now")
