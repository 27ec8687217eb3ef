"""Which posts an issue carries: the period, the new posts in it, the featured one, the cap."""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class TopicRef:
    slug: str
    name: str


@dataclass(frozen=True)
class Story:
    """A post as the digest sees it: plain values, read from the database or a golden file."""

    id: int
    url: str
    title: str
    teaser: str
    published_at: datetime
    first_seen_at: datetime | None = None
    author: str | None = None
    image_url: str | None = None
    image_alt: str | None = None
    topics: tuple[TopicRef, ...] = ()
    # Backfilled history: stored as already announced, never new.
    announced: bool = False
    # Added to the issue by hand without topics: every reader's, whatever they follow.
    everyone: bool = False

    @property
    def slugs(self) -> frozenset[str]:
        return frozenset(topic.slug for topic in self.topics)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    key: str


def period_ending(
    end: datetime, zone: ZoneInfo, days: int = 7, key_format: str = "%G-W%V"
) -> Period:
    """The `days` ending at `end`, named in the site's zone (the ISO week by default)."""
    if end.tzinfo is None:
        raise ValueError("the period's end must be timezone-aware")
    local_end = end.astimezone(zone)
    # Whole local days back, so a period keeps its wall-clock start across DST changes.
    local_start = (local_end.replace(tzinfo=None) - timedelta(days=days)).replace(tzinfo=zone)
    return Period(start=local_start, end=local_end, key=local_end.strftime(key_format))


def is_new(story: Story, period: Period, sent: Set[int]) -> bool:
    """Published before the period ends, and new in it: published in it, or first seen in it.

    "First seen" catches a post collected just after the previous build although dated before
    it; without it such a post would fall between two issues. A post that went out in a sent
    issue never comes back, however often it is edited.
    """
    if story.announced or story.id in sent or story.published_at >= period.end:
        return False
    if story.published_at >= period.start:
        return True
    return story.first_seen_at is not None and period.start <= story.first_seen_at < period.end


def newest_first(stories: Iterable[Story]) -> list[Story]:
    return sorted(stories, key=lambda story: (story.published_at, story.id), reverse=True)


@dataclass(frozen=True)
class Choices:
    """What an editor decided about a draft; kept when the draft is rebuilt."""

    featured_id: int | None = None
    excluded: frozenset[int] = frozenset()


@dataclass(frozen=True)
class IssuePlan:
    period: Period
    # Newest first, the featured story first; excluded stories stay listed so they can return.
    stories: tuple[Story, ...]
    featured_id: int | None
    excluded: frozenset[int] = field(default_factory=frozenset)

    @property
    def included(self) -> tuple[Story, ...]:
        return tuple(story for story in self.stories if story.id not in self.excluded)

    @property
    def quiet(self) -> bool:
        return not self.included


def choose_featured(stories: Sequence[Story], preferred: int | None) -> Story | None:
    """The editor's choice when it is among the stories, else the newest with an image."""
    for story in stories:
        if story.id == preferred:
            return story
    return next((story for story in newest_first(stories) if story.image_url), None)


def plan_issue(
    stories: Iterable[Story],
    period: Period,
    sent: Set[int] = frozenset(),
    choices: Choices = Choices(),
) -> IssuePlan:
    """The stories new in the period, featured first, then newest first (the cap is per variant)."""
    fresh = newest_first(story for story in stories if is_new(story, period, sent))
    included = [story for story in fresh if story.id not in choices.excluded]
    featured = choose_featured(included, choices.featured_id)
    ordered = ([featured] if featured else []) + [story for story in fresh if story is not featured]
    excluded = frozenset(choices.excluded) & {story.id for story in fresh}
    return IssuePlan(period, tuple(ordered), featured.id if featured else None, excluded)


@dataclass(frozen=True)
class Layout:
    """What one variant shows: a featured story, the rest up to the cap, and how many more."""

    featured: Story | None
    stories: tuple[Story, ...]
    more: int

    @property
    def count(self) -> int:
        return len(self.stories) + (1 if self.featured else 0) + self.more

    @property
    def shown(self) -> tuple[int, ...]:
        """The ids of the stories the copy shows, not the `more` it only counts."""
        return tuple(
            story.id for story in (*([self.featured] if self.featured else []), *self.stories)
        )

    @property
    def quiet(self) -> bool:
        return self.count == 0


# A quiet week's layout: the issue carries the intro and the donate block, and no stories.
QUIET = Layout(featured=None, stories=(), more=0)


def wanted_topics(topic_key: str) -> frozenset[str]:
    return frozenset(slug for slug in topic_key.split(",") if slug)


def lay_out(
    ordered: Sequence[Story], featured_id: int | None, topic_key: str, cap: int
) -> Layout | None:
    """The layout for subscribers of `topic_key` ("" follows everything); None if nothing is theirs.

    `ordered` is the issue's included stories in issue order. A topic subscriber gets only posts
    carrying one of their topics; when the issue's featured post is not among them, their own
    newest story with an image is featured instead.
    """
    topics = wanted_topics(topic_key)
    mine = [story for story in ordered if not topics or story.everyone or story.slugs & topics]
    if not mine:
        return None
    featured = choose_featured(mine, featured_id)
    rest = [story for story in mine if story is not featured]
    room = cap - (1 if featured else 0)
    return Layout(featured=featured, stories=tuple(rest[:room]), more=max(0, len(rest) - room))
