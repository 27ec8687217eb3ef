"""Print the import edges between newsletter's packages and subscribers, and every cycle.

Usage: python tools/import_graph.py [--late]. A package is `newsletter.<name>` (a subpackage or a
top-level module) or `subscribers`; imports inside functions count only with --late.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def unit(module: str) -> str | None:
    """The package a dotted module name belongs to, None outside the project."""
    parts = module.split(".")
    if parts[0] == "subscribers":
        return "subscribers"
    if parts[0] == "newsletter":
        return ".".join(parts[:2]) if len(parts) > 1 else "newsletter"
    return None


class _Imports(ast.NodeVisitor):
    """Dotted names imported at run time: top level, or inside functions too with `late`."""

    def __init__(self, late: bool) -> None:
        self.late = late
        self.depth = 0
        self.found: set[str] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        # `if TYPE_CHECKING:` imports never run: they make no cycle.
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        if self.late or not self.depth:
            self.found.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (self.late or not self.depth) and node.module and node.level == 0:
            self.found.add(node.module)
            for alias in node.names:  # `from newsletter import catalog` imports a module
                dotted = f"{node.module}.{alias.name}"
                if (ROOT / dotted.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / dotted.replace(".", "/")
                ).is_dir():
                    self.found.add(dotted)


def edges(late: bool) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    graph: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for package in ("newsletter", "subscribers"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            source = unit(name)
            assert source is not None
            visitor = _Imports(late)
            visitor.visit(ast.parse(path.read_text()))
            for target in visitor.found:
                other = unit(target)
                if other and other != source and other != "newsletter":
                    graph[source].add(other)
                    where[source, other].add(str(path.relative_to(ROOT)))
    return graph, where


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    graph, where = edges(late="--late" in sys.argv)
    for source in sorted(graph):
        print(f"{source} -> {', '.join(sorted(graph[source]))}")
    groups = cycles(graph)
    for group in groups:
        print("cycle: " + " <-> ".join(group))
        for source in group:  # the files that close it
            for target in sorted(graph[source] & set(group)):
                print(f"  {source} -> {target}: {', '.join(sorted(where[source, target]))}")
    print(f"{len(groups)} cycle(s)")
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main())
