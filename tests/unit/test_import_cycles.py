"""No module of the project imports one that imports it back, directly or round a longer loop
(imports inside functions count: they hide a cycle, they do not break it). A cycle means two
modules are one purpose split in two, or one purpose that has grown two."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Loops being removed; the list may only shrink (a new loop fails, and so does one that is gone).
KNOWN: list[list[str]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One loop per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_modules_import_each_other():
    found = cycles(import_graph())
    assert [c for c in found if c not in KNOWN] == [], "modules that import each other"
    assert [c for c in KNOWN if c not in found] == [], "remove these loops from KNOWN: they are gone"


def test_the_roster_printers_import_each_other_nowhere():
    graph = import_graph()
    printers = {m for m in graph if m.startswith("services.roster.adapters.")}
    assert not [c for c in cycles(graph) if printers & set(c)]
    assert "services.roster.adapters.printing" not in graph["services.roster.adapters.roster_pdf"]


def test_the_check_finds_a_loop_round_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
