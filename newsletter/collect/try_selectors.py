"""The selector tester: what an html source's selectors would extract from its live page now.

Nothing is stored. The page is fetched like any editor-typed address: through the collector's
limits and its guard, with the host not trusted unless the operator listed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from newsletter.collect import html
from newsletter.collect.fetch import Fetcher
from newsletter.collect.normalize import normalise, typed_context
from newsletter.collect.text import html_to_text
from newsletter.config import SelectorSettings, Settings
from newsletter.errors import EntrySkipped
from newsletter.models import Topic

# An editor reads the first page of results; more would only make the page long.
SHOWN = 30


@dataclass(frozen=True)
class Tried:
    """One item as it would be stored, or why it would be skipped."""

    title: str
    link: str | None
    teaser: str = ""
    published_at: datetime | None = None
    author: str | None = None
    skipped: str | None = None


@dataclass(frozen=True)
class Trial:
    url: str
    found: int
    items: list[Tried]


def try_selectors(
    settings: Settings,
    url: str,
    selectors: SelectorSettings,
    now: datetime,
    topics: Mapping[str, Topic],
    fetcher: Fetcher | None = None,
) -> Trial:
    """Page 1 of `url` read with `selectors`; CollectError when it cannot be read at all."""
    page_url, raws = html.read_typed(settings.collect, url, selectors, fetcher)
    ctx = typed_context(settings, page_url, now, frozenset(topics))
    items = []
    for position, raw in enumerate(raws[:SHOWN]):
        try:
            post = normalise(raw, ctx, position)
        except EntrySkipped as exc:
            title = html_to_text(raw.title or "") or "(no title)"
            items.append(Tried(title, raw.link, skipped=str(exc)))
            continue
        except (TypeError, AttributeError, ValueError, RecursionError) as exc:
            # As in the collector: the net for a value a parser let through.
            items.append(Tried("(unreadable)", None, skipped=type(exc).__name__))
            continue
        dated = post.published_at if post.dated else None
        items.append(Tried(post.title, post.url, post.teaser, dated, post.author_name))
    return Trial(page_url, len(raws), items)
