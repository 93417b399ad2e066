"""A two-node Ray cluster on this machine: cameras survive the loss of the worker node."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.integration.conftest import free_port
from tests.integration.iris_process import IrisProcess
from tests.support.media import to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")
RAY = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ray")
# Iris runs Ray only with token authentication: the test cluster's nodes and Iris share one.
TOKEN_AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}




def raylets(temp_dir: str) -> set[int]:
    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "raylet/raylet" in cmdline and temp_dir in cmdline:
            found.add(process.info["pid"])
    return found


def start_node(temp_dir: str, *args: str) -> int:
    """`ray start` one node with its own ports; returns its raylet pid."""
    before = raylets(temp_dir)
    ports = [free_port() for _ in range(4)]
    subprocess.run([RAY, "start", *args, "--num-cpus=4", "--disable-usage-stats",
                    f"--temp-dir={temp_dir}", f"--dashboard-agent-listen-port={ports[0]}",
                    f"--dashboard-agent-grpc-port={ports[1]}",
                    f"--runtime-env-agent-port={ports[2]}", f"--metrics-export-port={ports[3]}"],
                   check=True, capture_output=True, timeout=120, env={**os.environ, **TOKEN_AUTH})
    return wait_for(lambda: next(iter(raylets(temp_dir) - before), None), 30, what="raylet")


def kill_tree(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(tree, timeout=30)


def kill_cluster(temp_dir: str) -> None:
    for process in psutil.process_iter(["pid", "cmdline"]):
        if temp_dir in " ".join(process.info["cmdline"] or []):
            kill_tree(process.info["pid"])


def node_of(pid: int, raylet_pids: dict[str, int]) -> str | None:
    with contextlib.suppress(psutil.NoSuchProcess):
        ancestors = {p.pid for p in psutil.Process(pid).parents()}
        return next((name for name, raylet in raylet_pids.items() if raylet in ancestors), None)
    return None


@pytest.fixture
def cluster() -> Iterator[tuple[str, dict[str, int]]]:
    temp_dir = f"/tmp/rmn{secrets.token_hex(3)}"
    port = free_port()
    try:
        head = start_node(temp_dir, "--head", f"--port={port}", "--include-dashboard=false",
                          f"--ray-client-server-port={free_port()}",
                          "--min-worker-port=23000", "--max-worker-port=23999")
        worker = start_node(temp_dir, f"--address=127.0.0.1:{port}",
                            "--min-worker-port=24000", "--max-worker-port=24999")
        yield f"127.0.0.1:{port}", {"head": head, "worker": worker}
    finally:
        kill_cluster(temp_dir)


def test_cameras_come_back_on_the_head_when_the_worker_node_dies(cluster, tmp_path) -> None:
    address, nodes = cluster
    clip = presence_scene(tmp_path / "scene.mp4")
    rtsp = RtspServer(to_annexb(clip), fps=25, log_path=tmp_path / "rtsp.log").start()
    iris = IrisProcess(tmp_path / "data", tmp_path / "iris.log", IRIS_RAY_ADDRESS=address,
                       **TOKEN_AUTH)
    try:
        iris.start()
        with iris.client() as client:
            cameras = [client.post("/api/cameras", json={
                "name": f"Cam {i}", "rtsp_url": rtsp.url, "pre_seconds": 1, "post_seconds": 1,
                "min_trigger_frames": 2}).json()["id"] for i in range(3)]

            def placement() -> dict[int, str | None]:
                workers = client.get("/api/system").json()["workers"]
                return {w["camera_id"]: node_of(w["pid"], nodes) for w in workers
                        if w.get("status") == "online" and "pid" in w}

            placed = wait_for(lambda: len(p := placement()) == 3 and p, 60, what="3 online")
            on_worker = [cid for cid, node in placed.items() if node == "worker"]
            assert on_worker, f"no camera was spread to the worker node: {placed}"

            killed_at = time.time()
            kill_tree(nodes["worker"])  # the worker node is lost with its camera processes
            moved = wait_for(lambda: (p := placement()) and len(p) == 3 and
                             all(n == "head" for n in p.values()) and p, 120,
                             what="all cameras online on the head")
            assert set(moved) == set(cameras)

            def new_event() -> bool:
                items = client.get("/api/events", params={"limit": 100}).json()["items"]
                return any(e["camera_id"] in on_worker and not e["in_progress"] and
                           e["created_at"] > _iso(killed_at) for e in items)

            wait_for(new_event, 90, what="a new event from a moved camera")
    finally:
        iris.stop()
        rtsp.stop()


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
