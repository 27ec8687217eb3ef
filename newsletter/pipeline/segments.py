"""Segments that join subscribers with what they did: readers who clicked a story lately."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists

from newsletter.analytics.machines import HUMAN
from newsletter.analytics.models import ClickEvent
from newsletter.config import Settings
from subscribers.models import Subscriber

# The windows offered: a month and a season (and a week, for a weekly list's last issue).
ENGAGED_DAYS = (7, 30, 90)


def engaged_choices(settings: Settings) -> list[int]:
    """The windows an editor may pick: none without per-subscriber figures, and none longer
    than the clicks are kept (older ones are folded into counts that name nobody)."""
    analytics = settings.analytics
    if not analytics.per_subscriber:
        return []
    return [days for days in ENGAGED_DAYS if days <= analytics.retention_days]


def clicked_since(since: datetime) -> ColumnElement[bool]:
    """Subscribers with a reader's click (not a machine's) at or after `since`."""
    return exists().where(
        ClickEvent.subscriber_id == Subscriber.id,
        ClickEvent.verdict == HUMAN,
        ClickEvent.at >= since,
    )


def engaged(settings: Settings, now: datetime, days: int | None) -> list[ColumnElement[bool]]:
    """The condition for 'clicked in the last `days` days', or none for a window not offered."""
    if days is None or days not in engaged_choices(settings):
        return []
    return [clicked_since(now - timedelta(days=days))]
