"""Feed dates as feedparser reads them: the usual two forms here, any other through feedparser.

feedparser keeps its date parser private. The fast path (newsletter.collect.rss) reads the forms
nearly every feed uses itself, with feedparser's rules for them: W3DTF (`2023-05-02T08:00:00Z`,
its first handler) and RFC 822 (`Tue, 02 May 2023 08:00:00 -0400`). Anything else, or anything
out of range, goes to feedparser.parse in a one-item document, so feedparser's own answer stands.
tests/collect/test_rss_fast_path.py holds both to the same output.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import feedparser

_W3DTF = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:t(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(z|[+-]\d{2}:\d{2}))?"
)
_RFC822 = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun),? +)?(\d{1,2}) ([a-z]{3}) (\d{4}) "
    r"(\d{1,2}):(\d{2})(?::(\d{2}))? (gmt|ut|utc|z|[+-]\d{4}|[ecmp][sd]t)"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# feedparser's hours east of UTC for the zone names this module reads; utc is not among its
# names, and an unknown name counts as UTC there.
_ZONES = {"gmt": 0, "ut": 0, "utc": 0, "z": 0, "edt": -4, "est": -5, "cdt": -5, "cst": -6}
_ZONES |= {"mdt": -6, "mst": -7, "pdt": -7, "pst": -8}


def parse_date(raw: str, value: str) -> datetime | None:
    """`value` (the element's text, cleaned) as an aware UTC datetime, or None if not a date.

    `raw` is the element's text as the document has it, for feedparser when it is the one to ask.
    """
    if not value:
        return None
    try:
        return _own(value.lower())
    except (_NotOurs, ValueError, OverflowError):
        return _feedparsers(raw)


class _NotOurs(Exception):
    """A form this module leaves to feedparser."""


def _own(text: str) -> datetime:
    if found := _W3DTF.fullmatch(text):
        year, month, day, hour, minute, second, zone = found.groups()
        clock = (int(hour or 0), int(minute or 0), int(second or 0))
        stamp = datetime(int(year), int(month), int(day), *clock, tzinfo=UTC)
        return _utc(stamp, zone or "z")
    if found := _RFC822.fullmatch(text):
        day, month, year, hour, minute, second, zone = found.groups()
        if month not in _MONTHS:
            raise _NotOurs
        number = _MONTHS.index(month) + 1
        clock = (int(hour), int(minute), int(second or 0))
        stamp = datetime(int(year), number, int(day), *clock, tzinfo=UTC)
        return _utc(stamp, zone)
    raise _NotOurs


def _utc(stamp: datetime, zone: str) -> datetime:
    """`stamp`, read as local time in `zone`, in UTC (OverflowError past the calendar's ends)."""
    if zone[0] in "+-":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=sign * int(digits[:2]), minutes=sign * int(digits[2:]))
    else:
        offset = timedelta(hours=_ZONES[zone])
    return stamp - offset


def _feedparsers(raw: str) -> datetime | None:
    item = f"<item><pubDate>{escape(raw)}</pubDate></item>"
    document = f'<rss version="2.0"><channel>{item}</channel></rss>'
    entries = feedparser.parse(document.encode()).entries
    # dict.get: feedparser's own get() maps a missing key to a neighbour's.
    struct = dict.get(entries[0], "published_parsed") if entries else None
    return from_struct(struct) if struct is not None else None


def from_struct(struct: time.struct_time) -> datetime:
    """feedparser's UTC struct_time as an aware datetime; past year 9999, the latest there is."""
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC)
    except (OverflowError, ValueError, OSError):
        return datetime.max.replace(tzinfo=UTC)
