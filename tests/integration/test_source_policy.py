"""Camera sources are cameras, and no source can hold Iris hostage (issue 15, section 1).

Through the real API, WorkerManager and `iris up`: the issue's reproduction answers 422 naming
`rtsp_url`, a bad URL stored by an older version never opens, and stopping survives sources
stuck inside FFmpeg.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import ray
from sqlalchemy import Engine
from sqlmodel import Session

from iris import names
from iris.db.tables import Camera
from tests.integration.iris_process import IrisProcess
from tests.support.media import make_clip
from tests.support.tarpit import Tarpit
from tests.support.wait import wait_for

REPRODUCTION = ("file:concat:/etc/passwd|"
                "/etc/apt/trusted.gpg.d/debian-archive-bookworm-stable.asc")
STOP_BUDGET_S = 5.0
# Past the cameras' budget: Serve and Ray shut down (≈5-10 s on a busy 2-core box).
SHUTDOWN_MARGIN_S = 25.0
STUCK_CAMERAS = 6


def refused_on(response: httpx.Response, field: str = "rtsp_url") -> str:
    """The 422's message for `field` (fails unless the answer is exactly that)."""
    assert response.status_code == 422, response.text
    errors = [e for e in response.json()["detail"] if e["loc"][-1] == field]
    assert errors, response.text
    return str(errors[0]["msg"])


def test_issue_reproduction_is_refused(iris: Any, client: httpx.Client) -> None:
    body = {"name": "x", "rtsp_url": REPRODUCTION}
    anonymous = httpx.post(f"{iris.base_url}/api/cameras", json=body,
                           headers={"X-Email": "anyone"}, timeout=30)
    assert anonymous.status_code == 401
    assert "may not contain" in refused_on(client.post("/api/cameras", json=body))
    assert all(c["name"] != "x" for c in client.get("/api/cameras").json())


@pytest.mark.parametrize(("url", "why"), [
    ("http://169.254.169.254/latest/meta-data/", "allow_http_sources"),
    ("https://camera.example/stream", "allow_http_sources"),
    ("file:///etc/passwd", "must be inside"),
    ("rtsp://admin:pa/ss@192.0.2.10/s", "percent-encode the password"),
])
def test_sources_outside_the_policy_are_422(client: httpx.Client, url: str, why: str) -> None:
    assert why in refused_on(client.post("/api/cameras", json={"name": "no", "rtsp_url": url}))


def test_update_to_a_refused_source_keeps_the_stored_one(client: httpx.Client,
                                                          engine: Engine) -> None:
    url = "rtsp://u:p@192.0.2.10/stream"
    cid = client.post("/api/cameras", json={"name": "Kept", "rtsp_url": url,
                                            "enabled": False}).json()["id"]
    try:
        message = refused_on(client.put(f"/api/cameras/{cid}",
                                        json={"rtsp_url": "file:///etc/shadow"}))
        assert "must be inside" in message
        with Session(engine) as session:
            assert session.get(Camera, cid).rtsp_url == url  # type: ignore[union-attr]
    finally:
        client.delete(f"/api/cameras/{cid}")


def test_a_file_in_the_local_sources_folder_is_accepted(iris: Any, client: httpx.Client) -> None:
    clip = make_clip(iris.settings.local_sources_path / "policy.mp4", seconds=1,
                     size=(160, 120), audio=False)
    created = client.post("/api/cameras", json={"name": "Local", "enabled": False,
                                                "rtsp_url": clip.as_uri()})
    assert created.status_code == 201, created.text
    client.delete(f"/api/cameras/{created.json()['id']}")


def test_stored_bad_url_never_opens(iris: Any, client: httpx.Client, engine: Engine) -> None:
    # A row written by an older version (no validation then): the worker must refuse it.
    with Session(engine, expire_on_commit=False) as session:
        camera = Camera(name="Legacy", rtsp_url=REPRODUCTION, enabled=True)
        session.add(camera)
        session.commit()
    cid = camera.id
    assert cid is not None
    try:
        assert ray.get(iris.manager.sync.remote(cid), timeout=60) == "started"
        status = wait_for(
            lambda: (s := client.get(f"/api/cameras/{cid}/status").json())["status"] == "error"
            and s, 60, 0.25, "the worker to report the refusal")
        assert status["reason"].startswith("source refused: ")
        assert "may not contain" in status["reason"]
        state = ray.get(iris.manager.states.remote(), timeout=30)[cid]
        assert state.frames_decoded == 0 and state.fps == 0
        # Live with sound opens sources too: it refuses the row as well.
        hls = client.get(f"/api/live/{cid}/hls/index.m3u8")
        assert hls.status_code == 409 and "refused" in hls.json()["detail"], hls.text
    finally:
        client.delete(f"/api/cameras/{cid}")


def test_stop_all_returns_within_its_budget_whatever_the_sources_do(
    iris: Any, client: httpx.Client
) -> None:
    with Tarpit() as tarpit:
        ids = [client.post("/api/cameras", json={"name": f"Stuck {i}", "rtsp_url": tarpit.url(),
                                                 "detect_interval": 60}).json()["id"]
               for i in range(STUCK_CAMERAS)]
        try:
            # Every camera is inside an open that never completes and never times out a read.
            wait_for(lambda: tarpit.connections >= STUCK_CAMERAS, 60, 0.25, "stuck opens")
            stopped = ray.get(iris.manager.stop_all.remote(STOP_BUDGET_S),
                              timeout=STOP_BUDGET_S + 5)
            assert set(ids) <= set(stopped)
            assert ray.get(iris.manager.workers.remote(), timeout=30) == {}
            for cid in ids:  # killed, stuck or not
                wait_for(lambda c=cid: not _actor_exists(iris, c), 30, 0.25,
                         f"camera-{cid} to be gone")
        finally:
            for cid in ids:
                client.delete(f"/api/cameras/{cid}")


def _actor_exists(iris: Any, camera_id: int) -> bool:
    try:
        ray.get_actor(names.camera_actor(camera_id), namespace=iris.settings.ray_namespace)
    except ValueError:
        return False
    return True


def test_iris_up_stops_within_its_budget_with_stuck_cameras(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    iris = IrisProcess(tmp_path / "data", log, IRIS_STOP_TIMEOUT_SECONDS=str(STOP_BUDGET_S))
    with Tarpit() as tarpit:
        iris.start()
        assert iris.proc is not None
        try:
            with iris.client() as client:
                for i in range(STUCK_CAMERAS):
                    created = client.post("/api/cameras", json={
                        "name": f"Stuck {i}", "rtsp_url": tarpit.url(), "detect_interval": 60})
                    assert created.status_code == 201, created.text
            wait_for(lambda: tarpit.connections >= STUCK_CAMERAS, 90, 0.25, "stuck opens")
            family = psutil.Process(iris.proc.pid).children(recursive=True)
            os.kill(iris.proc.pid, signal.SIGTERM)
            assert iris.proc.wait(timeout=STOP_BUDGET_S + SHUTDOWN_MARGIN_S) == 0
            _, alive = psutil.wait_procs(family, timeout=30)
            assert not alive, f"left behind: {[p.name() for p in alive]}"
        finally:
            iris.stop()
            if iris.proc.poll() is None:
                os.killpg(iris.proc.pid, signal.SIGKILL)
    output = log.read_text()
    assert "stopping cameras failed" not in output, output[-3000:]
    assert "Iris stopped." in output
