"""Pure normalisation: canonical URLs, teasers, bylines, dates, topics and safe HTML."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3

from newsletter.collect.byline import parse_byline, split_byline
from newsletter.collect.item import Normalised, RawItem
from newsletter.collect.text import clean_text, html_to_text, without_controls
from newsletter.errors import EntrySkipped

if TYPE_CHECKING:
    from newsletter.config import Settings

# Query parameters that say how a reader arrived, never which page they asked for.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "ref_src",
        "_ga",
        "_gl",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

# Endings that are a link's words or a cut mark, not the story's: removed, possibly repeatedly.
_READ_MORE = re.compile(
    r"(?:\s*(?:\[\s*(?:…|\.\.\.)\s*\]|read more\s*[»›→]?|continue reading\s*[»›→]?"
    r"|read\s*(?:…|\.\.\.)|…|\.\.\.)\s*)$",
    re.I,
)
_CUT_ENDINGS = ("…", "...", "[…]", "[...]")
_SLUG_SEP = re.compile(r"[^a-z0-9]+")
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# A clock a little behind a publisher's is fine; the year 9999 is not.
_FUTURE_SLACK = timedelta(days=2)
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y")


@dataclass(frozen=True)
class Context:
    """What normalisation needs to know about the source and the moment."""

    base_url: str
    zone: tzinfo
    now: datetime
    teaser_length: int
    default_topics: tuple[str, ...]
    known_topics: frozenset[str]


def typed_context(
    settings: Settings, base_url: str, now: datetime, known_topics: frozenset[str]
) -> Context:
    """Normalisation for a page an editor typed in: no source, so no default topics."""
    return Context(
        base_url=base_url,
        zone=settings.zone,
        now=now,
        teaser_length=settings.collect.teaser_length,
        default_topics=(),
        known_topics=known_topics,
    )


def normalise(raw: RawItem, ctx: Context, position: int = 0) -> Normalised:
    """One raw entry to a storable post; EntrySkipped says why when it cannot be one."""
    title = html_to_text(raw.title or "")
    if not title:
        raise EntrySkipped("entry has no title")
    if not raw.link or not raw.link.strip():
        raise EntrySkipped("entry has no link")
    url = canonical_url(raw.link, ctx.base_url)
    body_html = sanitise_html(raw.content_html) if raw.content_html else None
    excerpt = html_to_text(raw.excerpt_html or "") or html_to_text(raw.content_html or "")
    byline_name, byline_role, excerpt = split_byline(excerpt)
    teaser = make_teaser(excerpt, ctx.teaser_length)
    author_name, author_role = _author(raw.author, byline_name, byline_role)
    published = parse_date(raw.published, ctx.zone)
    if published is not None:
        check_date(published, ctx.now)
    updated = parse_date(raw.updated, ctx.zone)
    if updated is not None and not _plausible(updated, ctx.now):
        updated = None
    image_url = _optional_url(raw.image_url, url)
    topics = map_topics(ctx.default_topics, raw.categories, ctx.known_topics)
    # A dateless entry takes the time it was first seen, a millisecond earlier for each place
    # further down its listing, so that newest-first keeps the order the site itself gives.
    published_at = published or ctx.now - timedelta(milliseconds=position)
    guid = clean_text(raw.guid or "")[:2000] or None
    image_alt = clean_text(raw.image_alt or "")[:500] or None
    version = {
        "title": title,
        "teaser": teaser,
        "body": body_html,
        "author": [author_name, author_role],
        "image": [image_url, image_alt],
        "published": published.isoformat() if published else None,
        "topics": topics,
    }
    return Normalised(
        url=url,
        guid=guid,
        title=title,
        teaser=teaser,
        body_html=body_html,
        author_name=author_name,
        author_role=author_role,
        image_url=image_url,
        image_alt=image_alt,
        published_at=published_at,
        dated=published is not None,
        updated_at=updated,
        topics=tuple(topics),
        content_hash=content_hash(title, teaser),
        version_hash=_sha256(json.dumps(version, sort_keys=True)),
    )


def canonical_url(link: str, base_url: str) -> str:
    """Absolute, http(s), lower-case scheme and host, no default port, fragment or tracking."""
    absolute = urljoin(base_url, clean_text(link))
    parts = urlsplit(absolute)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise EntrySkipped(f"link {link[:200]!r} is not an http(s) address")
    host = parts.hostname.rstrip(".")
    try:
        port = parts.port
    except ValueError:
        raise EntrySkipped(f"link {link[:200]!r} has an invalid port") from None
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else (f"{host}:{port}")
    )
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]
    url = urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))
    if len(url) > 2000:
        raise EntrySkipped("link is longer than 2,000 characters")
    return url


def make_teaser(text: str, length: int) -> str:
    """Plain text without "Read More"-style endings, cut at a word to `length` with one '…'."""
    text = clean_text(text)
    was_cut = False
    while True:
        match = _READ_MORE.search(text)
        if not match or not match.group(0).strip():
            break
        was_cut = was_cut or match.group(0).strip().endswith(_CUT_ENDINGS)
        text = text[: match.start()].rstrip()
    if len(text) > length:
        cut = text[: length + 1]
        space = cut.rfind(" ")
        text = cut[:space] if space > length // 2 else text[:length]
        was_cut = True
    text = text.rstrip(" ,;:–—-")
    if was_cut and text and text[-1] not in '.!?"”’)':
        text += "…"
    return text


def parse_date(value: datetime | str | None, zone: tzinfo) -> datetime | None:
    """An aware datetime from whatever a source gave; naive ones are read in the site's zone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = clean_text(value)
        if not text:
            return None
        parsed_or_none = _parse_text_date(text)
        if parsed_or_none is None:
            return None
        parsed = parsed_or_none
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def check_date(value: datetime, now: datetime) -> None:
    if not _plausible(value, now):
        raise EntrySkipped(f"date {value.isoformat()} is out of range")


def map_topics(
    defaults: tuple[str, ...], categories: list[str], known: frozenset[str]
) -> list[str]:
    """The source's topics plus the post's categories that name a configured topic."""
    wanted = {*defaults, *(slugify(category) for category in categories)}
    return sorted(slug for slug in wanted if slug in known)


def slugify(text: str) -> str:
    return _SLUG_SEP.sub("-", html_to_text(text).lower()).strip("-")


def sanitise_html(fragment: str) -> str:
    """Body HTML safe to show and mail: no scripts, event handlers, iframes or styles."""
    cleaned = nh3.clean(
        fragment, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer"
    )
    # After nh3, which turns a reference such as &#11; into the character itself.
    return without_controls(cleaned).strip()


def content_hash(title: str, teaser: str) -> str:
    """The last-resort dedup key: the same words make the same story."""
    folded = f"{clean_text(title).casefold()}\n{clean_text(teaser).casefold()}"
    return _sha256(folded)


def _author(
    source_author: str | None, byline_name: str | None, byline_role: str | None
) -> tuple[str | None, str | None]:
    name, role = parse_byline(html_to_text(source_author or ""))
    if name is None:
        return byline_name, byline_role
    same = byline_name is not None and byline_name.casefold() == name.casefold()
    return name, role or (byline_role if same else None)


def _optional_url(link: str | None, base_url: str) -> str | None:
    if not link:
        return None
    try:
        return canonical_url(link, base_url)
    except EntrySkipped:
        return None


def _plausible(value: datetime, now: datetime) -> bool:
    return _EARLIEST <= value <= now + _FUTURE_SLACK


def _parse_text_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007  (the caller attaches the zone)
        except ValueError:
            continue
    return None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
