"""CameraWorker: one camera's logic (no Ray). Filled in by the camera issue."""

from __future__ import annotations

import time
from typing import Any

from iris.actors.config import CameraConfig


class CameraWorker:
    """Placeholder worker: reports itself connecting until ingest exists."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self._status = "connecting"

    def start(self) -> None:
        return None

    def stop(self) -> None:
        self._status = "offline"

    def state(self) -> dict[str, Any]:
        return {"status": self._status, "last_seen": time.time(), "fps": 0.0,
                "detector": None, "reason": None}

    def latest_jpeg(self, after_seq: int, timeout: float) -> tuple[int, bytes] | None:
        return None

    def record_start(self) -> float:
        raise NotImplementedError

    def record_stop(self, started_at: float) -> dict[str, Any]:
        raise NotImplementedError
