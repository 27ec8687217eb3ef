"""An issue's overrides of a story: they win where set, and the post fills in the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.digest.variants import story_from_post
from newsletter.models import IssuePost, Post

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _post() -> Post:
    return Post(
        id=7,
        url="https://news.example.org/the-wall/",
        title="The Wall",
        teaser="The post's teaser.",
        image_url="https://news.example.org/wall.jpg",
        image_alt="The wall by day",
        published_at=NOW,
        first_seen_at=NOW,
        topics=[],
    )


def test_without_overrides_the_story_is_the_post() -> None:
    post = _post()
    story = story_from_post(post, IssuePost(post_id=7, position=0))
    assert (story.title, story.teaser, story.image_url, story.image_alt) == (
        "The Wall",
        "The post's teaser.",
        "https://news.example.org/wall.jpg",
        "The wall by day",
    )
    assert story == story_from_post(post)


def test_overrides_win_and_a_new_picture_drops_the_posts_description() -> None:
    entry = IssuePost(
        post_id=7,
        position=0,
        title_override="This week's wall",
        teaser_override="",
        image_url_override="https://cdn.example.org/night.jpg",
    )
    story = story_from_post(_post(), entry)
    assert story.title == "This week's wall"
    assert story.teaser == ""  # an empty override is the issue's choice: no teaser
    assert story.image_url == "https://cdn.example.org/night.jpg"
    assert story.image_alt is None
    described = IssuePost(post_id=7, position=0, image_alt_override="The wall at night")
    assert story_from_post(_post(), described).image_alt == "The wall at night"
    assert story_from_post(_post(), described).image_url == "https://news.example.org/wall.jpg"
