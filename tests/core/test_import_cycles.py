"""No import cycles inside the core (saprot_scan) or the PyMOL plugin (saprot_scan_pymol).

A cycle hides which module is the lower layer and breaks as soon as one of its imports moves to module
level. The imports are read with ``ast`` from the source, so the test needs neither PyMOL nor the core's
dependencies. Every import counts, wherever it is written: at module level, inside a function (it runs
on first call, and then it closes the same circle), and under ``if TYPE_CHECKING:`` (type checkers
follow it). Importing ``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``, so those packages count
as imported too, except the importer's own parent packages (they are always imported before it).
Dynamic imports (``importlib.import_module`` with a computed name) are not seen.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {"saprot_scan": REPO / "core", "saprot_scan_pymol": REPO / "plugin_pymol"}


def _modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package) for every .py file of ``package``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imported(node: ast.AST, package: str) -> list[str]:
    """The dotted names an import statement asks for (``from x import y``: ``x.y`` and ``x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        return [target] + [f"{target}.{alias.name}" for alias in node.names]
    return []


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` that importing it (or calling its functions) imports."""
    modules = _modules(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        own_parents = set(_ancestors(name))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _imported(node, here):
                if target not in modules:
                    continue  # a name imported from a module, not a module; its module is listed too
                for module in (*_ancestors(target), target):
                    if module in modules and module != name and module not in own_parents:
                        graph[name].add(module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted; [] when acyclic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycles(package):
    graph = import_graph(PACKAGES[package], package)
    assert len(graph) > 10, f"found only {len(graph)} modules of {package}: the test reads the wrong folder"
    assert cycles(graph) == [], f"import cycles in {package}"


def test_cycle_finder_sees_function_level_and_package_imports(tmp_path):
    """The detector itself: a cycle closed only by a function-level import, and one through a package's
    ``__init__`` (importing ``pkg.sub.leaf`` runs ``pkg/sub/__init__.py``), are both reported."""
    package = tmp_path / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from demo.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from . import a\n")
    (package / "sub" / "__init__.py").write_text("from demo.c import x\n")
    (package / "sub" / "leaf.py").write_text("y = 1\n")
    (package / "c.py").write_text("import demo.sub.leaf\nx = 1\n")
    (package / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from demo import a\n")
    assert cycles(import_graph(tmp_path, "demo")) == [["demo.a", "demo.b"], ["demo.c", "demo.sub"]]
