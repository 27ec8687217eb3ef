"""WordPress sources: the REST API's posts with `_embed`, page by page, only what changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from newsletter.collect.fetch import Fetcher
from newsletter.collect.item import Harvest, RawItem
from newsletter.errors import SourceFormatError

API_PATH = "/wp-json/wp/v2/posts"
# However many pages the site claims, one run reads at most this many.
MAX_API_PAGES = 200


def endpoint(url: str) -> str:
    """The posts endpoint for a site address (or the endpoint itself, when given)."""
    return url if "/wp-json/" in url else url.rstrip("/") + API_PATH


def read(fetcher: Fetcher, url: str, modified_after: datetime | None, per_page: int) -> Harvest:
    api = endpoint(url)
    harvest = Harvest(base_url=url, cursor=modified_after)
    page, total_pages = 1, 1
    while page <= min(total_pages, MAX_API_PAGES):
        params: dict[str, str | int] = {
            "_embed": 1,
            "per_page": per_page,
            "page": page,
            "orderby": "modified",
            "order": "asc",
        }
        if modified_after is not None:
            # With its offset, so that WordPress does not read it in the site's zone.
            params["modified_after"] = modified_after.astimezone(UTC).isoformat(timespec="seconds")
        fetched = fetcher.get(api, params=params, accept="application/json")
        posts = _posts(fetched.content, api, page)
        harvest.items.extend(item(post) for post in posts)
        for post in posts:
            changed = _utc(post.get("modified_gmt"))
            if changed is not None and (harvest.cursor is None or changed > harvest.cursor):
                harvest.cursor = changed
        header = fetched.headers.get("x-wp-totalpages", "1")
        total_pages = int(header) if header.isdigit() else 1
        page += 1
    return harvest


def item(post: dict[str, Any]) -> RawItem:
    """One post object of the REST API (with `_embedded`) as a raw item."""
    embedded = post.get("_embedded") or {}
    authors = embedded.get("author") or []
    media = embedded.get("wp:featuredmedia") or []
    terms = [term for group in embedded.get("wp:term") or [] for term in group or []]
    content = post.get("content") or {}
    image = media[0] if media and isinstance(media[0], dict) else {}
    return RawItem(
        title=_rendered(post.get("title")),
        link=post.get("link"),
        guid=_rendered(post.get("guid")),
        excerpt_html=_rendered(post.get("excerpt")),
        content_html=None if content.get("protected") else _rendered(content),
        author=authors[0].get("name") if authors and isinstance(authors[0], dict) else None,
        # date_gmt is UTC without saying so; `date` is the site's local time.
        published=_utc(post.get("date_gmt")) or post.get("date"),
        updated=_utc(post.get("modified_gmt")) or post.get("modified"),
        categories=[str(term.get("name", "")) for term in terms if isinstance(term, dict)],
        image_url=image.get("source_url"),
        image_alt=image.get("alt_text"),
    )


def _posts(content: bytes, api: str, page: int) -> list[dict[str, Any]]:
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceFormatError(f"{api} page {page}: not JSON ({exc})") from None
    if not isinstance(data, list):
        raise SourceFormatError(f"{api} page {page}: expected a list of posts")
    return [post for post in data if isinstance(post, dict)]


def _rendered(value: Any) -> str | None:
    if isinstance(value, dict):
        rendered = value.get("rendered")
        return str(rendered) if rendered is not None else None
    return str(value) if value is not None else None


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
