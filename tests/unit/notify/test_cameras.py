"""The camera list notifications see, and its reloads off the caller's thread."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from iris.db.engine import make_engine, session_scope
from iris.db.tables import Camera
from iris.notify import CameraInfo, CameraReloader, load_cameras
from iris.settings import load_settings
from tests.support.wait import wait_for


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    with session_scope(engine) as session:
        session.add_all([
            Camera(name="Drive", rtsp_url="rtsp://a/s", trigger_classes="person,car,person",
                   status="online"),
            Camera(name="Yard", rtsp_url="rtsp://b/s", trigger_classes="", enabled=False,
                   status="online"),
        ])
    return engine


def test_cameras_with_their_trigger_labels_and_motion(tmp_path: Path) -> None:
    cameras = load_cameras(_engine(tmp_path), load_settings(data_dir=tmp_path))
    assert cameras == [
        CameraInfo(id=1, name="Drive", labels=("person", "car", "motion"), status="online"),
        # no triggers means the default (person); a disabled camera reads offline
        CameraInfo(id=2, name="Yard", labels=("person", "motion"), status="offline",
                   enabled=False),
    ]


def test_reloader_folds_requests_and_retries_a_failed_load() -> None:
    applied: list[Sequence[CameraInfo]] = []
    gate = threading.Event()
    calls = {"n": 0}

    def load() -> list[CameraInfo]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database away")
        gate.wait(10)
        return [CameraInfo(1, "A", ("person",))]

    reloader = CameraReloader(load, applied.append, retry_s=0.01)
    try:
        reloader.request()
        wait_for(lambda: calls["n"] >= 2, timeout=10, interval=0.01, what="retried load")
        for _ in range(5):  # arrive while the second load runs: one more load, not five
            reloader.request()
        gate.set()
        wait_for(lambda: len(applied) == 2, timeout=10, interval=0.01, what="two loads")
        assert calls["n"] == 3
    finally:
        reloader.close()
