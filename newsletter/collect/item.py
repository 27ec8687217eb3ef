"""What each source kind hands over (RawItem) and what normalisation makes of it (Normalised)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class RawItem:
    """One entry as a source gave it: strings and HTML fragments, nothing checked yet.

    title, excerpt_html, content_html, author and categories are HTML fragments, decoded once by
    normalisation: a source whose value is plain text hands it over escaped (text.as_html), so
    that "&lt;b&gt;" in a page stays the text "<b>". guid, image_alt and the dates are plain text.
    """

    title: str | None = None
    link: str | None = None
    guid: str | None = None
    excerpt_html: str | None = None
    content_html: str | None = None
    author: str | None = None
    # A datetime when the source's parser already read it, else the text as found.
    published: datetime | str | None = None
    updated: datetime | str | None = None
    categories: list[str] = field(default_factory=list)
    image_url: str | None = None
    image_alt: str | None = None

    def ref(self) -> str:
        """How to name this entry in a skip reason."""
        return (self.link or self.guid or self.title or "(entry without link or title)")[:300]


@dataclass(frozen=True)
class Normalised:
    """A post ready to store: canonical URL, plain-text teaser, aware dates, topic slugs.

    title, teaser, author_name, author_role and image_alt are plain text as a browser showed the
    source ("<b>" is the text "<b>"), on one line, with no control characters: whatever renders
    them escapes them. body_html is sanitised HTML.
    """

    url: str
    guid: str | None
    title: str
    teaser: str
    body_html: str | None
    author_name: str | None
    author_role: str | None
    image_url: str | None
    image_alt: str | None
    published_at: datetime
    # False when the source gave no date and published_at is the first-seen time.
    dated: bool
    updated_at: datetime | None
    topics: tuple[str, ...]
    content_hash: str
    version_hash: str


@dataclass
class Harvest:
    """What one read of a source brought back, and what to remember for the next read."""

    items: list[RawItem] = field(default_factory=list)
    # Relative links in the items are resolved against this.
    base_url: str = ""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    # WordPress: the newest `modified` seen, to ask only for later changes next time.
    cursor: datetime | None = None
    # (where, why) for parts of the source that could not be read, e.g. a broken page 2.
    problems: list[tuple[str, str]] = field(default_factory=list)
    # What was read in full but not cleanly (HTML entities in XML): told, not counted as errors.
    warnings: list[str] = field(default_factory=list)
