"""The site's topics as this package sees them: slugs outside, ids inside, translated only here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Integer, String, column, select, table
from sqlalchemy.orm import Session

from subscribers.errors import UnknownTopic

# The service's topics table, named as SubscriberTopic's foreign key already names it: read by
# name so that this package needs none of the service's models.
_TOPICS = table("topics", column("id", Integer), column("slug", String))


@dataclass(frozen=True)
class Topics:
    """Topic slugs and ids, both ways: callers hand in and get back slugs, never ids."""

    by_slug: Mapping[str, int]
    by_id: Mapping[int, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {id_: slug for slug, id_ in self.by_slug.items()})

    @property
    def all(self) -> frozenset[int]:
        return frozenset(self.by_id)

    def ids(self, slugs: Iterable[str]) -> frozenset[int]:
        """Slugs → ids (blanks skipped); UnknownTopic names the first slug that is not a topic."""
        chosen: set[int] = set()
        for slug in slugs:
            slug = slug.strip()
            if not slug:
                continue
            topic_id = self.by_slug.get(slug)
            if topic_id is None:
                raise UnknownTopic(slug)
            chosen.add(topic_id)
        return frozenset(chosen)

    def slugs(self, ids: Iterable[int]) -> list[str]:
        """Ids → sorted slugs; an id that is no longer a topic is left out."""
        return sorted(self.by_id[id_] for id_ in ids if id_ in self.by_id)


def known_topics(session: Session) -> Topics:
    """The site's topics as they are stored now."""
    rows = session.execute(select(_TOPICS.c.slug, _TOPICS.c.id))
    return Topics({slug: topic_id for slug, topic_id in rows})
