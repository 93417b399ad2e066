"""CPU saturation on demand: processes that spin on every core while a phase is measured."""

from __future__ import annotations

import multiprocessing
from types import TracebackType


def _spin() -> None:
    while True:
        pass


class Burners:
    """`count` busy-looping processes for the duration of a ``with`` block."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._processes: list[multiprocessing.Process] = []

    def __enter__(self) -> Burners:
        for _ in range(self.count):
            process = multiprocessing.Process(target=_spin, daemon=True)
            process.start()
            self._processes.append(process)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for process in self._processes:
            process.kill()
        for process in self._processes:
            process.join(10)
        self._processes = []
