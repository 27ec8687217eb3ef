"""Imports run one way between packages: tools/import_graph.py finds the cycles."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

STAGES = {
    f"newsletter.{name}"
    for name in ("collect", "publish", "digest", "deliver", "editors", "pipeline", "cli")
}


def _tool() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "tools" / "import_graph.py"
    spec = importlib.util.spec_from_file_location("import_graph", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nothing_imports_the_command_line() -> None:
    graph, _ = _tool().edges(late=True)
    assert "newsletter.pipeline" in graph["newsletter.cli"]  # the probe sees the adapters' imports
    assert {source for source, targets in graph.items() if "newsletter.cli" in targets} == set()


def test_no_cycle_runs_through_the_stages_or_the_joins() -> None:
    tool = _tool()
    graph, _ = tool.edges(late=True)
    assert [group for group in tool.cycles(graph) if STAGES & set(group)] == []


def test_a_cycle_is_found() -> None:
    tool = _tool()
    assert tool.cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
