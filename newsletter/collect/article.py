"""One article page read by its address: what its JSON-LD, h-entry or OpenGraph says it is.

An editor typed the address, so it is fetched as any editor-typed address is: the collector's
size, time and redirect limits, and its guard with the host not trusted (see try_selectors.py).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from newsletter.collect import html
from newsletter.collect.fetch import Fetcher
from newsletter.collect.item import Normalised, RawItem
from newsletter.collect.normalize import canonical_url, normalise, typed_context
from newsletter.config import Settings
from newsletter.errors import EntrySkipped, FetchError, SourceFormatError

MAX_URL = 2000  # the posts.url column


def checked_url(typed: str) -> str:
    """The typed address made canonical; FetchError when it is no web address at all."""
    text = typed.strip()
    parts = urlsplit(text)
    if len(text) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{text[:80] or '(empty)'}: not a web address (https://…)")
    try:
        return canonical_url(text, text)
    except EntrySkipped as exc:
        raise FetchError(f"{text[:80]}: {exc}") from None


def read_article(
    settings: Settings, url: str, now: datetime, fetcher: Fetcher | None = None
) -> Normalised:
    """The page's article as a post would be stored; CollectError says why it cannot be."""
    page_url, raws = html.read_typed(settings.collect, url, None, fetcher)
    raw = _the_article(raws, page_url)
    try:
        return normalise(raw, typed_context(settings, page_url, now, frozenset()))
    except EntrySkipped as exc:
        raise SourceFormatError(f"{page_url}: {exc}") from None
    except (TypeError, AttributeError, ValueError, RecursionError) as exc:
        problem = f"unreadable article ({type(exc).__name__})"
        raise SourceFormatError(f"{page_url}: {problem}") from None


def _the_article(raws: list[RawItem], page_url: str) -> RawItem:
    """The item that is this page: the one linking here, else the first; its link made ours.

    A page may claim any address as its own (og:url); only one on the same host is believed,
    so a page cannot pass itself off as another site's story.
    """
    if not raws:
        raise SourceFormatError(
            f"{page_url}: the page declares no article (no JSON-LD, h-entry or OpenGraph)"
        )
    here = canonical_url(page_url, page_url)
    raw = next((r for r in raws if r.link and canonical_url(r.link, page_url) == here), raws[0])
    if not raw.link or urlsplit(raw.link).hostname != urlsplit(page_url).hostname:
        raw.link = page_url
    return raw
