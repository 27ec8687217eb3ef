"""Golden-file cases: tests/digest/data/<case>/posts.json in, expected.html and expected.txt out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from newsletter.config import Settings, load_settings
from newsletter.digest.compose import QUIET, Story, TopicRef, lay_out, period_ending, plan_issue
from newsletter.digest.render import Edition, PlacedBlock, Rendered, Renderer

DATA = Path(__file__).parent / "data"


def case_names() -> list[str]:
    return sorted(path.name for path in DATA.iterdir() if (path / "posts.json").is_file())


def story(raw: dict[str, Any]) -> Story:
    return Story(
        id=raw["id"],
        url=raw["url"],
        title=raw["title"],
        teaser=raw["teaser"],
        published_at=datetime.fromisoformat(raw["published_at"]),
        first_seen_at=datetime.fromisoformat(raw["first_seen_at"])
        if raw.get("first_seen_at")
        else None,
        author=raw.get("author"),
        image_url=raw.get("image_url"),
        image_alt=raw.get("image_alt"),
        topics=tuple(TopicRef(slug, name) for slug, name in raw.get("topics", [])),
    )


@dataclass
class Case:
    settings: Settings
    edition: Edition
    rendered: Rendered


def render_case(name: str, **overrides: Any) -> Case:
    raw = json.loads((DATA / name / "posts.json").read_text())
    settings = load_settings(**{**raw.get("settings", {}), **overrides})
    period = period_ending(
        datetime.fromisoformat(raw["now"]), settings.zone, settings.digest.period_days
    )
    plan = plan_issue([story(item) for item in raw["posts"]], period)
    layout = lay_out(
        plan.included, plan.featured_id, raw.get("topic_key", ""), settings.digest.max_posts
    )
    edition = Edition(
        key=period.key,
        period=period,
        intro_markdown=raw.get("intro", ""),
        blocks=tuple(PlacedBlock(**block) for block in raw.get("blocks", [])),
        order=tuple(story.id for story in plan.included),
    )
    rendered = Renderer(settings).render(edition, layout or QUIET)
    return Case(settings, edition, rendered)
