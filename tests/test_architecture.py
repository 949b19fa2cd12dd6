"""The package's shape: layers without import circles, no private names across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent / "kit"
MAX_LINES = 300


def module_name(path: Path) -> str:
    """Return the dotted name of a file under kit/ (a package is its __init__)."""
    parts = path.relative_to(KIT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(KIT.rglob("*.py"))}


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """Return (module, names, line) for every kit import in a file, nested ones too."""
    found = []
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "kit":
                    found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] == "kit":
                found.append((base, [a.name for a in node.names], node.lineno))
    return found


def edges() -> dict[str, set[str]]:
    """Return which kit modules each kit module imports (submodules named in `from`)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, names, _ in imports_of(path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
            if len(targets) < len(names) or not names:
                targets.append(module)
            graph[name].update(t for t in targets if t in MODULES and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the import circles (strongly connected parts of more than one module)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def without_package_roots(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package's __init__ that only re-exports its own children."""
    # `kit/__init__.py` gathers the public API from its modules; a module importing a
    # sibling through `from kit import x` is an edge to that sibling, not to `kit`.
    return {k: {t for t in v if t != "kit"} for k, v in graph.items()}


def test_no_import_circles():
    """Does every kit module import only modules that never import it back?"""
    found = [c for c in cycles(without_package_roots(edges()))]
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_private_names_across_modules():
    """Does no kit module import another module's private (_underscored) names?"""
    offenders = []
    for name, path in MODULES.items():
        for module, names, line in imports_of(path):
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private and module != name:
                offenders.append(f"{path.relative_to(KIT.parent)}:{line} {private}")
    assert offenders == [], "\n".join(offenders)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    """Is each module at most 300 lines (one job each)?"""
    lines = len(MODULES[name].read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{MODULES[name]} has {lines} lines (at most {MAX_LINES})"
    )


def test_the_checks_see_a_circle_and_a_private_import():
    """Can the checks fail? A made-up circle and a private import are found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("from kit.model import _seeded\n")
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
             for a in n.names]  # fmt: skip
    assert names == ["_seeded"] and names[0].startswith("_")
