"""WordPress sources: the REST API's posts with `_embed`, page by page, only what changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newsletter.collect import jsondoc
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
        total_pages = int(header) if header.isascii() and header.isdigit() else 1
        page += 1
    return harvest


def item(post: dict[str, Any]) -> RawItem:
    """One post object of the REST API (with `_embedded`) as a raw item.

    Every field is checked for its type: a value of the wrong one is treated as missing, so a
    post whose title is a number or a list is skipped for having no title, not a crash. The
    rendered fields are HTML, and so are author and term names (WordPress stores them escaped);
    alt text is plain.
    """
    embedded = _dict(post.get("_embedded"))
    authors = _list(embedded.get("author"))
    media = _list(embedded.get("wp:featuredmedia"))
    terms = [term for group in _list(embedded.get("wp:term")) for term in _list(group)]
    content = _dict(post.get("content"))
    image = media[0] if media and isinstance(media[0], dict) else {}
    author = authors[0] if authors and isinstance(authors[0], dict) else {}
    return RawItem(
        title=_rendered(post.get("title")),
        link=_text(post.get("link")),
        guid=_rendered(post.get("guid")),
        excerpt_html=_rendered(post.get("excerpt")),
        content_html=None if content.get("protected") else _rendered(content),
        author=_text(author.get("name")),
        # date_gmt is UTC without saying so; `date` is the site's local time.
        published=_utc(post.get("date_gmt")) or _text(post.get("date")),
        updated=_utc(post.get("modified_gmt")) or _text(post.get("modified")),
        categories=[
            name for term in terms if isinstance(term, dict) and (name := _text(term.get("name")))
        ],
        image_url=_text(image.get("source_url")),
        image_alt=_text(image.get("alt_text")),
    )


def _posts(content: bytes, api: str, page: int) -> list[dict[str, Any]]:
    data = jsondoc.load(content, f"{api} page {page}", invalid="not JSON")
    if not isinstance(data, list):
        raise SourceFormatError(f"{api} page {page}: expected a list of posts")
    return [post for post in data if isinstance(post, dict)]


def _rendered(value: Any) -> str | None:
    return _text(value.get("rendered") if isinstance(value, dict) else value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
