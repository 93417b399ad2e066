"""`iris up --demo`: a new user sees live video without a camera of their own."""

from __future__ import annotations

import time

import cv2
import numpy as np

from tests.integration.iris_process import IrisProcess


def test_demo_camera_streams(tmp_path) -> None:
    iris = IrisProcess(tmp_path / "data", tmp_path / "iris.log").start("--demo")
    try:
        with iris.client() as client:
            cameras = client.get("/api/cameras").json()
            assert [c["name"] for c in cameras] == ["Demo camera"]
            camera = cameras[0]["id"]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = client.get(f"/api/cameras/{camera}/status").json()
                if status["status"] == "online" and status["fps"] >= 20:
                    break
                time.sleep(0.5)
            assert status["status"] == "online" and 20 <= status["fps"] <= 30, status
            snapshot = client.get(f"/api/live/{camera}/snapshot")
            image = cv2.imdecode(np.frombuffer(snapshot.content, np.uint8), cv2.IMREAD_COLOR)
            assert image is not None and image.shape == (720, 1280, 3)
    finally:
        iris.stop()
    # A second start reuses the demo clip and camera instead of adding another.
    iris.start("--demo")
    try:
        with iris.client() as client:
            assert len(client.get("/api/cameras").json()) == 1
    finally:
        iris.stop()
