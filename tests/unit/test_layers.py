"""The package's layers hold: no upward import, Ray only in the shells, one module of names.

Read from the source (AST), as `test_import_cycles` does: an import counts wherever it sits
(lazy ones too), except under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from iris import names
from tests.unit.test_import_cycles import PACKAGE_ROOT, _runtime_imports, import_graph, module_name

REPO = PACKAGE_ROOT.parent

#: Package → the packages it must never import (they sit above it).
UPWARD: dict[str, set[str]] = {
    "iris.models": {"iris.db", "iris.identity", "iris.recording", "iris.actors", "iris.serve",
                    "iris.notify"},
    "iris.db": {"iris.models", "iris.identity", "iris.recording", "iris.actors", "iris.serve",
                "iris.notify"},
    "iris.identity": {"iris.recording", "iris.actors", "iris.serve", "iris.notify"},
    "iris.recording": {"iris.identity", "iris.actors", "iris.serve", "iris.notify"},
    "iris.actors": {"iris.serve"},
    "iris.notify": {"iris.serve"},
}
#: Modules that break a rule today, each with why; their owners are moving them.
PENDING: dict[str, str] = {
    "iris.notify.payload": "builds the event payload from the API's EventPublic",
}
#: Modules that hold logic and so must never import Ray (they are tested without it).
NO_RAY = ("iris.db", "iris.models", "iris.identity", "iris.recording", "iris.messages",
          "iris.names", "iris.status", "iris.detector_socket", "iris.actors.fleet",
          "iris.serve.runtime",
          "iris.serve.camera_service", "iris.serve.routes", "iris.serve.schemas",
          "iris.serve.lookup", "iris.serve.api", "iris.serve.deps")


def _package(module: str, packages: set[str]) -> str | None:
    return next((p for p in packages if module == p or module.startswith(p + ".")), None)


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(importer, imported) pairs where a package imports one above it."""
    found = set()
    for importer, imported in graph.items():
        below = _package(importer, set(UPWARD))
        if below is None:
            continue
        for target in imported:
            if _package(target, UPWARD[below]) is not None:
                found.add((importer, target))
    return found


def test_the_rule_finds_an_upward_import() -> None:
    graph = {"iris.models.x": {"iris.db.tables", "iris.types"}, "iris.serve.y": {"iris.db"}}
    assert upward_imports(graph) == {("iris.models.x", "iris.db.tables")}


def test_no_package_imports_one_above_it() -> None:
    found = {(a, b) for a, b in upward_imports(import_graph()) if a not in PENDING}
    assert found == set(), "upward imports: " + "; ".join(f"{a} -> {b}" for a, b in sorted(found))


def _ray_importers() -> Iterator[str]:
    for path in PACKAGE_ROOT.rglob("*.py"):
        module = module_name(path)
        if not module.startswith(NO_RAY):
            continue
        for node in _runtime_imports(ast.parse(path.read_text(), filename=str(path))):
            targets = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""])
            if any(t == "ray" or t.startswith("ray.") for t in targets):
                yield module


def test_logic_and_routes_never_import_ray() -> None:
    assert sorted(set(_ray_importers())) == []


def _routes_calling_remote() -> Iterator[str]:
    for path in (PACKAGE_ROOT / "serve" / "routes").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "remote":
                yield f"{path.name}:{node.lineno}"


def test_routes_reach_ray_only_through_the_runtime() -> None:
    assert list(_routes_calling_remote()) == []


# ----------------------------------------------------------------------------- names
NAMES = {names.WORKER_MANAGER, names.IDENTITY_MANAGER, names.HLS_MANAGER, names.NOTIFIER,
         names.DETECTOR, names.EMBEDDER, names.INGRESS}
#: Files that still spell a name out, with their owner moving them to `iris.names`.
NAMES_PENDING = {"iris/actors/notifier.py"}


def _exported(tree: ast.AST) -> set[int]:
    """ids of the string constants listed in `__all__` (they name classes, not actors)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            ids |= {id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    return ids


def name_literals(path: Path, root: Path = REPO) -> list[str]:
    """Where a file spells an actor or deployment name, or `f"camera-{…}"`, itself."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(root)
    exported = _exported(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in NAMES and id(node) not in exported:
            found.append(f"{where}:{node.lineno} {node.value!r}")
        if (isinstance(node, ast.JoinedStr) and len(node.values) == 2
                and isinstance(node.values[0], ast.Constant)
                and node.values[0].value == names.CAMERA_PREFIX):
            found.append(f"{where}:{node.lineno} f'{names.CAMERA_PREFIX}{{…}}'")
    return found


def test_the_name_finder_sees_literals_and_camera_names(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('__all__ = ["Notifier"]\na = "Detector"\nb = f"camera-{a}"\n'
                      'c = f"camera-{a}-x.mp4"\n')
    assert name_literals(sample, tmp_path) == ["sample.py:2 'Detector'",
                                               "sample.py:3 f'camera-{…}'"]


@pytest.mark.parametrize("folder", ["iris", "tests", "bench"])
def test_actor_and_deployment_names_come_from_iris_names(folder: str) -> None:
    skip = {"iris/names.py", *NAMES_PENDING}
    found = [hit for path in sorted((REPO / folder).rglob("*.py"))
             if str(path.relative_to(REPO)) not in skip for hit in name_literals(path)]
    assert found == []
