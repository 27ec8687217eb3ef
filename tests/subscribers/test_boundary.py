"""The audience package stands on the core alone: no stage, no web, no service models."""

from __future__ import annotations

import ast
from pathlib import Path

import subscribers

CORE = {"newsletter.db", "newsletter.bulk", "newsletter.errors"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_subscribers_imports_nothing_of_the_service_but_the_core() -> None:
    folder = Path(subscribers.__file__).parent
    outside = {
        f"{path.name}: {module}"
        for path in sorted(folder.glob("*.py"))
        for module in _imports(path)
        if module.split(".")[0] == "newsletter" and module not in CORE
    }
    assert not outside
