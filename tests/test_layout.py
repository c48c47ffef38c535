"""The package's layout: its rooms (the folders and top-level modules of ``infusion``)
import one another one way only, so that no two rooms, nor a longer circle of them, depend
on each other. The imports are read from the source with ``ast``, function-level and
TYPE_CHECKING imports included."""

from __future__ import annotations

import ast

from workflow_runs import REPO

PACKAGE = REPO / "infusion"


def room_of(module: str) -> str | None:
    """``infusion.paper.tables`` -> ``paper``; ``infusion.study`` -> ``study``; None for the
    package itself or a name outside it."""
    parts = module.split(".")
    if parts[0] != "infusion" or len(parts) < 2:
        return None
    name = parts[1]
    return name if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file() else None


def room_imports() -> dict[str, set[str]]:
    """Each room -> the other rooms its modules import."""
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        here = relative.parts[0].removesuffix(".py")
        if here == "__init__" or here == "__main__":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                there = room_of(name)
                if there and there != here:
                    edges.setdefault(here, set()).add(there)
    return edges


def circle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle of rooms (depth-first search), or None."""
    state: dict[str, str] = {}

    def visit(room: str, path: list[str]) -> list[str] | None:
        state[room] = "open"
        for there in sorted(edges.get(room, ())):
            if state.get(there) == "open":
                return [*path[path.index(there) :], there]
            if there not in state and (found := visit(there, [*path, there])):
                return found
        state[room] = "done"
        return None

    for room in sorted(edges):
        if room not in state and (found := visit(room, [room])):
            return found
    return None


def test_the_search_finds_a_planted_circle():
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b", "c"}, "b": {"c"}}) is None


def test_rooms_import_one_another_one_way():
    edges = room_imports()
    assert {"cli", "paper", "beyond", "process", "settings"} <= set(edges)
    assert "paper" in edges["beyond"]  # the questions beyond the paper use its tables
    assert circle(edges) is None, f"rooms in a circle: {' -> '.join(circle(edges))}"
