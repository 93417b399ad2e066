"""The retention runner: a thread that applies `iris.recording.retention` (no Ray).

Every few seconds it expires footage (so an events-only camera's live buffer stays short) and
keeps the free-disk floor; every `retention_check_seconds` it runs the full pass (event ages,
the clip cache, gaps, the storage cap). It never stops on an error: the next round retries.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine

from iris.recording.retention import RetentionPolicy, RetentionReport, enforce, enforce_floor
from iris.settings import Settings

log = logging.getLogger("iris.retention")

FREQUENT_PASS_S = 5.0


class RetentionRunner:
    """Runs retention over the instance's recordings until `stop`."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.root = settings.root
        self.policy = RetentionPolicy.from_settings(settings)
        self.full_every = settings.retention_check_seconds
        self.frequent_every = min(FREQUENT_PASS_S, self.full_every)
        self.last_report: RetentionReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RetentionRunner:
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_full(self) -> RetentionReport:
        """One full pass now."""
        self.last_report = enforce(self.engine, self.root, self.policy)
        return self.last_report

    def _loop(self) -> None:
        next_full = time.monotonic() + self.full_every
        while not self._stop.wait(self.frequent_every):
            try:
                if time.monotonic() >= next_full:
                    next_full = time.monotonic() + self.full_every
                    self.run_full()
                else:
                    enforce_floor(self.engine, self.root, self.policy)
            except Exception as exc:  # noqa: BLE001 - retry next round; never stop recording
                log.warning("retention pass failed: %s", exc)
