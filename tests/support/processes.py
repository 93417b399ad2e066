"""Find the processes of this test run's own Ray cluster (other instances may run beside it)."""

from __future__ import annotations

import psutil


def own_ray_process(marker: str) -> psutil.Process:
    """The first child process of this pytest whose command line contains `marker`."""
    for proc in psutil.Process().children(recursive=True):
        try:
            if any(marker in part for part in proc.cmdline()):
                return proc
        except psutil.NoSuchProcess:
            continue
    raise AssertionError(f"no process of this test's Ray with {marker!r} in its command line")
