"""The preheader, shown by inboxes right after the subject, never repeats the subject's story."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from newsletter.config import load_settings
from newsletter.digest.compose import Layout, Story, period_ending
from newsletter.digest.render import Edition, Renderer
from tests.digest.cases import DATA, story

DEMO: dict[str, Any] = json.loads((DATA / "demo" / "posts.json").read_text())
STORIES = [story(item) for item in DEMO["posts"]]


def _preheader(layout: Layout) -> tuple[str, str]:
    """The subject and the preheader of the demo site's issue with this layout."""
    settings = load_settings(**DEMO.get("settings", {}))
    period = period_ending(datetime.fromisoformat(DEMO["now"]), settings.zone)
    edition = Edition(key=period.key, period=period)
    renderer = Renderer(settings)
    rendered = renderer.render(edition, layout)
    preheader: str = renderer.context(edition, layout, personal=True)["preheader"]
    assert preheader in rendered.html
    return rendered.subject, preheader


def _titled(stories: list[Story]) -> list[Story]:
    assert len({item.title for item in stories}) == len(stories)
    return stories


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_with_no_story_featured_the_preheader_skips_the_subjects_story(count: int) -> None:
    stories = _titled(STORIES[:count])
    subject, preheader = _preheader(Layout(featured=None, stories=tuple(stories), more=0))
    assert subject.startswith(stories[0].title)
    assert stories[0].title not in preheader
    if count > 1:
        assert preheader.startswith(f"Also: {stories[1].title}")
    else:
        assert preheader  # the story's teaser: something to read beside the subject


def test_with_a_featured_story_the_preheader_is_its_teaser_not_its_title() -> None:
    featured, *rest = _titled(STORIES[:4])
    subject, preheader = _preheader(Layout(featured=featured, stories=tuple(rest), more=0))
    assert subject.startswith(featured.title)
    assert featured.title not in preheader
    assert preheader.rstrip("…")[:40] in featured.teaser
