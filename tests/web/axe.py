"""axe-core in the real browser: WCAG 2.2 A and AA violations on a page, none expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = (
    Path(__file__).resolve().parents[2]
    / "tools"
    / "a11y"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
# The rule sets of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def violations(page: Any, tags: list[str] = TAGS) -> list[str]:
    """Every violation on the page as "rule: target (help)", an empty list when there is none."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make test runs npm ci in tools/a11y)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')"
        " + (n.any[0] ? ' [' + n.any[0].message + ']' : '')).join(', ') + ' (' + v.help + ')')",
        tags,
    )
    return list(found)


def assert_accessible(page: Any) -> None:
    found = violations(page)
    assert found == [], "\n".join(found)


def at_widths(page: Any, name: str, widths: dict[str, int], shots: Path) -> list[str]:
    """The page at each width: a full-page screenshot as admin-<name>-<label>.png, then axe."""
    found: list[str] = []
    for label, width in widths.items():
        page.set_viewport_size({"width": width, "height": 900})
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"admin-{name}-{label}.png"), full_page=True)
        found.extend(f"{name} at {width}px: {v}" for v in violations(page))
    return found
