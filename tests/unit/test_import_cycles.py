"""No module of `iris` imports itself back through others (no import cycles).

The graph is built from the source (AST), not by importing: every `import` and `from … import`
counts, at module level or inside a function (a lazy import still closes a cycle the moment it
runs), except those under `if TYPE_CHECKING:`, which never run. Importing `a.b.c` also runs the
`__init__` of `a.b` and `a`, so those count as imported too, unless the importer lives inside
that package (its `__init__` is already running or done by then).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import iris

PACKAGE_ROOT = Path(iris.__file__).parent


def module_name(path: Path, root: Path = PACKAGE_ROOT) -> str:
    """`iris/models/gallery.py` -> `iris.models.gallery`; a package's `__init__` -> the package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (not under `if TYPE_CHECKING:`)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool,
             modules: set[str]) -> set[str]:
    """The `iris` modules an import statement makes Python import."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = importer.split(".")
            anchor = anchor if is_package else anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        # `from pkg import name`: name is a submodule when one exists, else an attribute.
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                 for a in node.names]
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            inside = importer == candidate or importer.startswith(candidate + ".")
            if candidate in modules and (end == len(parts) or not inside):
                found.add(candidate)
    found.discard(importer)
    return found


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    """Module -> the `iris` modules it imports, for every `.py` file under `root`."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[name] = set()
        for node in _runtime_imports(tree):
            graph[name] |= _targets(node, name, is_package, modules)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_cycle_finder_finds_a_lazy_cycle_and_ignores_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "iris"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from iris.sub import b\n")
    (pkg / "sub" / "a.py").write_text("def f():\n    from iris.sub.b import g\n")
    (pkg / "sub" / "b.py").write_text("from . import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from iris import d\n")
    (pkg / "d.py").write_text("import iris.c\n")
    graph = import_graph(pkg)
    assert graph["iris.sub.b"] == {"iris.sub.a"}
    assert graph["iris.sub"] == {"iris.sub.b"}  # a package's own children are no cycle
    assert graph["iris.c"] == set()
    assert find_cycles(graph) == [["iris.sub.a", "iris.sub.b"]]


def test_iris_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)
