"""`bench.idle_bench`: PSS summed per process name, per-camera steps and targets in the table."""

from __future__ import annotations

import argparse

from bench.common import CpuWindow
from bench.idle_bench import GIB, MIB, Phase, pss_by_label, render


def test_pss_is_summed_and_counted_per_process_name() -> None:
    pss, count = pss_by_label([("ray::CameraActor", 100), ("raylet", 30),
                               ("ray::CameraActor", 50)])
    assert pss == {"ray::CameraActor": 150, "raylet": 30}
    assert count == {"ray::CameraActor": 2, "raylet": 1}


def phase(name: str, cores: float, pss_mib: int, seconds: float = 10.0) -> Phase:
    by_label = {"raylet": cores * seconds / 2, "ray::ServeController": cores * seconds / 2}
    window = CpuWindow(seconds, cores * seconds, by_label, processes=2)
    return Phase(name, window, {"raylet": pss_mib * MIB // 2,
                                "ray::ServeController": pss_mib * MIB // 2},
                 {"raylet": 1, "ray::ServeController": 1}, startup_s=5.0)


def test_report_gives_ratios_per_camera_steps_and_the_verdicts() -> None:
    args = argparse.Namespace(seconds=10.0, variant_seconds=5.0, warmup=2.0)
    baseline = phase("bare", 0.10, 700)
    tuned = phase("tuned", 0.05, 690)
    iris = [phase("Iris, no camera", 0.04, 900), phase("Iris, 1 camera", 0.24, 1060),
            phase("Iris, 2 cameras", 0.44, 1220)]
    text = render(args, baseline, tuned, iris, variants=[])
    assert "| Iris, no camera | 0.040 | 0.40 | 0.88 | 1.29 | 2 | 5.0 |" in text
    assert "| mean per camera (0 → 2) | 0.200 | 160 |" in text
    assert "≤ 0.05 cores: met (0.040" in text
    assert "≤ 1.0 GiB PSS: met" in text
    assert iris[0].pss_total == 900 * MIB and iris[0].pss_total < GIB


def test_variants_are_compared_with_iris_as_shipped() -> None:
    args = argparse.Namespace(seconds=10.0, variant_seconds=5.0, warmup=2.0)
    base = phase("bare", 0.10, 700)
    variants = [phase("as shipped", 0.10, 1000), phase("control loop 0.1 s", 0.15, 1000)]
    text = render(args, base, base, [phase("Iris, no camera", 0.10, 1300)], variants)
    assert "| control loop 0.1 s | 0.150 | 1.50 |" in text
    assert "**not met** (1.27 GiB" in text
