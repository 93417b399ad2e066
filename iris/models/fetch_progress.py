"""How a model download shows itself: a progress bar on a terminal, a few lines in a log
(journald, a pipe), nothing in tests that do not ask.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    """What the downloader reports; ``end`` may be called more than once per ``begin``."""

    def begin(self, name: str, total: int | None, done: int) -> None:
        """A transfer of ``name`` starts with ``done`` of ``total`` bytes already on disk."""

    def advance(self, received: int) -> None:
        """``received`` more bytes arrived."""

    def end(self) -> None:
        """The transfer stopped (finished or not)."""

    def note(self, message: str) -> None:
        """One line for the operator (a step, a skip, the outcome)."""


class NullProgress:
    """Reports nothing."""

    def begin(self, name: str, total: int | None, done: int) -> None:
        pass

    def advance(self, received: int) -> None:
        pass

    def end(self) -> None:
        pass

    def note(self, message: str) -> None:
        pass


def megabytes(count: int | None) -> str:
    """``5.6 MB``: sizes as an operator reads them."""
    return "? MB" if count is None else f"{count / 1e6:.1f} MB"


class LineProgress:
    """A line when a transfer starts and one when it stops: fit for logs and journald."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._name: str | None = None
        self._done = 0
        self._total: int | None = None
        self._started = 0.0

    def begin(self, name: str, total: int | None, done: int) -> None:
        self._name, self._total, self._done = name, total, done
        self._started = time.monotonic()
        resumed = f", resuming at {megabytes(done)}" if done else ""
        self.note(f"models: fetching {name} ({megabytes(total)}{resumed})")

    def advance(self, received: int) -> None:
        self._done += received

    def end(self) -> None:
        if self._name is None:
            return
        seconds = max(time.monotonic() - self._started, 1e-6)
        self.note(f"models: {self._name}: {megabytes(self._done)} of "
                  f"{megabytes(self._total)} in {seconds:.1f} s")
        self._name = None

    def note(self, message: str) -> None:
        print(message, file=self.stream, flush=True)


class BarProgress(LineProgress):
    """A rich progress bar per file on a terminal; notes print above it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        from rich.console import Console

        self._console = Console(file=self.stream)
        self._bar: Any = None
        self._task: Any = None

    def begin(self, name: str, total: int | None, done: int) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.end()
        self._bar = Progress("[bold]{task.description}", BarColumn(), DownloadColumn(),
                             TransferSpeedColumn(), TimeRemainingColumn(),
                             console=self._console, transient=False)
        self._bar.start()
        self._task = self._bar.add_task(name, total=total, completed=done)

    def advance(self, received: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, received)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def note(self, message: str) -> None:
        self._console.print(message, highlight=False, markup=False)


def progress_for(stream: TextIO | None = None) -> Progress:
    """A bar when ``stream`` (stdout by default) is a terminal, else lines."""
    stream = stream or sys.stdout
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
