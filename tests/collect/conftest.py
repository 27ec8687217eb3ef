"""The demo site served for real on 127.0.0.1, and settings whose sources point at it."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from newsletter import catalog, migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings, load_settings
from newsletter.runtime import Runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# A Thursday in late 2026: the demo's 2011 and 2023 dates are long past the backfill cutoff.
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

BORDER_SELECTORS = {
    "item": "article",
    "title": "h2 a",
    "link": "h2 a",
    "teaser": ".excerpt",
    "date": "time",
    "topic": ".card-topic",
    "image": "img",
}


def _load_demo_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_serve", EXAMPLES / "serve.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_serve"] = module
    spec.loader.exec_module(module)
    return module


demo_server = _load_demo_server()


@pytest.fixture
def site() -> Iterator[str]:
    """The demo site's base URL on a free local port."""
    with demo_server.serving() as base:
        yield base


def demo_sources(base: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "border-page",
            "kind": "html",
            "url": f"{base}/topics/border-enforcement.html",
            "topics": ["border-enforcement"],
            "selectors": BORDER_SELECTORS,
        },
        {"name": "site-feed", "kind": "feed", "url": f"{base}/feed.xml"},
        {"name": "site-api", "kind": "wordpress", "url": base},
    ]


def build(settings: Settings, sources: list[dict[str, Any]], **extra: Any) -> Runtime:
    """A migrated runtime at NOW whose settings list `sources`, mirrored into the database."""
    data = settings.model_dump(mode="json", exclude={"sources"})
    data.update(extra)
    configured = load_settings(**data, sources=sources)
    runtime = Runtime.build(configured, FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        catalog.sync(session, configured, NOW)
    return runtime


@pytest.fixture
def make_runtime(settings: Settings) -> Iterator[Any]:
    built: list[Runtime] = []

    def make(sources: list[dict[str, Any]], **extra: Any) -> Runtime:
        runtime = build(settings, sources, **extra)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()
