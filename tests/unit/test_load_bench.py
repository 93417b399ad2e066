"""`bench.load_bench`: Iris against the plain uvicorn baseline, as ratios in one table."""

from __future__ import annotations

from collections import Counter

from bench.common import CpuWindow
from bench.load_bench import Cpu, Measured, comparison, overall
from tests.support.load import KindStats, LoadResult


def measured(latencies: list[float], cpu_s: float, errors: int = 0) -> Measured:
    stats = KindStats(latencies_ms=latencies, errors=Counter({"503": errors} if errors else {}))
    result = LoadResult(clients=2, seconds=10.0, by_kind={"events list": stats})
    return Measured(result, Cpu(CpuWindow(10.0, cpu_s), 1.0), (1.0,), (1.0,))


def test_overall_percentiles_pool_every_kind() -> None:
    result = LoadResult(2, 1.0, {"a": KindStats([1.0, 2.0, 3.0]), "b": KindStats([4.0, 100.0])})
    assert overall(result) == (3.0, 100.0)
    assert overall(LoadResult(2, 1.0, {})) == (0.0, 0.0)


def test_comparison_is_iris_over_the_baseline() -> None:
    plain = measured([10.0] * 100, cpu_s=1.0)
    iris = measured([25.0] * 50, cpu_s=2.0, errors=1)
    text = comparison(iris, plain)
    assert "| req/s | 10.0 | 5.1 | **0.51** |" in text
    assert "| p50 ms | 10.0 | 25.0 | **2.50** |" in text
    assert "| server CPU ms per request | 10.0 | 39.2 | **3.92** |" in text
    assert "events list: 503 ×1" in text
