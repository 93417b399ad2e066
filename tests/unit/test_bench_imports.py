"""Every name a benchmark imports from Iris exists: most benchmarks import Iris inside their
functions (one Ray cluster at a time), so a name moved in Iris broke `make bench` only when it
ran — the detector bench failed that way for several runs without a test noticing."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
OURS = ("iris", "bench", "tests")


def imported_names(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from <ours> import name`, at any depth of the file."""
    return [(node.module, alias.name)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
            and node.module.split(".")[0] in OURS
            for alias in node.names]


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_what_a_benchmark_imports_exists(path: Path) -> None:
    missing = []
    for module_name, name in imported_names(path):
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            continue
        try:
            importlib.import_module(f"{module_name}.{name}")
        except ModuleNotFoundError:
            missing.append(f"{module_name}.{name}")
    assert not missing, f"{path.name} imports what Iris no longer has: {missing}"
