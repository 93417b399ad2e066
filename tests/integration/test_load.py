"""200 concurrent clients through the Serve proxy: event list, snapshots, clip seeking; no errors.

A disabled camera (its snapshot is the "no signal" JPEG) with events that all point at a real
small MP4. The load (tests/support/load.py) checks every answer's content, stops by itself and
only talks to 127.0.0.1. The run is shorter than the benchmark's minute (bench/load_bench.py):
IRIS_LOAD_SECONDS sets it (default 20 s, still 200 clients).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from iris.db.engine import make_engine
from tests.integration.conftest import IrisInstance
from tests.support.load import KINDS, LoadTargets, run_load, seed_events
from tests.support.media import make_clip

CLIENTS = 200
LOAD_SECONDS = float(os.environ.get("IRIS_LOAD_SECONDS", "20"))
WARMUP_SECONDS = 2.0
EVENTS = 120


@pytest.fixture
def targets(iris: IrisInstance) -> Iterator[LoadTargets]:
    """A disabled camera with EVENTS events on one clip; deleting the camera drops them all."""
    with iris.client() as client:
        created = client.post("/api/cameras", json={"name": "load", "enabled": False,
                                                    "rtsp_url": "rtsp://127.0.0.1:9/load"})
        assert created.status_code == 201, created.text
        camera_id = int(created.json()["id"])
        try:
            root = iris.settings.root
            clip = make_clip(root / "clips" / str(camera_id) / "load.mp4", seconds=2, fps=15,
                             size=(320, 240))
            engine = make_engine(iris.settings.resolved_database_url)
            yield seed_events(engine, root, camera_id, clip, EVENTS)
        finally:
            assert client.delete(f"/api/cameras/{camera_id}").status_code == 204


@pytest.mark.timeout(LOAD_SECONDS + 180)
def test_200_clients_get_only_right_answers(iris: IrisInstance, targets: LoadTargets,
                                            artifacts_dir: Path) -> None:
    result = run_load(iris.base_url, iris.headers, targets.plan, clients=CLIENTS,
                      duration_s=LOAD_SECONDS, warmup_s=WARMUP_SECONDS, seed=7)
    report = (f"{CLIENTS} clients, {result.seconds:.0f} s measured: "
              f"{result.rate:.0f} req/s\n\n{result.table()}\n")
    (artifacts_dir / "load.md").write_text(report)
    print(report)
    assert not result.errors, f"{sum(result.errors.values())} errors: {result.errors}\n{report}"
    for kind in KINDS:  # every kind was answered (how many is the load bench's business)
        assert kind in result.by_kind and result.by_kind[kind].latencies_ms, report
