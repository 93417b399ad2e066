"""A full disk degrades one camera's recording (status error, no crash) until space returns;
the free-disk floor makes retention delete the oldest footage before it comes to that."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from sqlmodel import Session, select

from iris import names
from iris.db.engine import make_engine
from iris.db.tables import RecordingSegment
from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.media import to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available
from tests.support.scenes import presence_scene
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB tmpfs as the data root (root can mount; skip where the sandbox forbids it)."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(path: Path) -> Path:
    """Write zeros until the filesystem is full."""
    filler = path / "filler.bin"
    block = b"\0" * (1 << 16)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, block)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def disk_instance(iris, small_disk: Path, tmp_path: Path) -> Iterator[IrisInstance]:
    # No free-disk floor: this test fills the disk to see recording degrade, not retention.
    with extra_instance(iris, "diskfull", data_dir=small_disk / "data",
                        database_url=f"sqlite:///{tmp_path / 'iris.db'}",
                        storage_min_free_gb=0, storage_min_free_percent=0) as instance:
        yield instance


FLOOR = 8_000_000  # bytes the floor keeps free on the 32 MB disk


@pytest.fixture
def floor_instance(iris, small_disk: Path, tmp_path: Path) -> Iterator[IrisInstance]:
    with extra_instance(iris, "diskfloor", data_dir=small_disk / "data",
                        database_url=f"sqlite:///{tmp_path / 'iris.db'}",
                        storage_min_free_gb=FLOOR / 1e9, storage_min_free_percent=0,
                        retention_floor_hours=0) as instance:
        yield instance


def footage(engine, camera: int) -> list[tuple[float, float, int, str]]:
    with Session(engine) as session:
        return [(r.start, r.end, r.bytes, r.path) for r in session.execute(
            select(RecordingSegment).where(RecordingSegment.camera_id == camera)
            .order_by(RecordingSegment.start)).scalars()]


def test_the_free_disk_floor_deletes_the_oldest_footage_and_keeps_recording(
        floor_instance, small_disk: Path, tmp_path: Path) -> None:
    clip = presence_scene(tmp_path / "scene.mp4", size=(1280, 720))
    rtsp = RtspServer(to_annexb(clip), fps=25, log_path=tmp_path / "rtsp.log").start()
    engine = make_engine(f"sqlite:///{tmp_path / 'iris.db'}")
    root = small_disk / "data"
    try:
        with floor_instance.client() as client:
            camera = client.post("/api/cameras", json={"name": "Floor", "rtsp_url": rtsp.url,
                                                       "detect_interval": 60}).json()["id"]
            recorded = wait_for(lambda: len(footage(engine, camera)) >= 8 and
                                footage(engine, camera), 120, what="eight segments")
            oldest, held = recorded[0][0], sum(size for *_, size, _ in recorded)
            # The disk fills up (another program): it leaves less than the floor free, by
            # half of what the camera has recorded.
            filler = fill(small_disk)
            os.truncate(filler, max(0, filler.stat().st_size - (FLOOR - held // 2)))
            assert shutil.disk_usage(small_disk).free < FLOOR

            def floor_kept() -> bool:
                return shutil.disk_usage(small_disk).free >= FLOOR - 1_000_000  # one write

            wait_for(floor_kept, 60, what="the floor restored by retention")
            left = footage(engine, camera)
            assert left[0][0] > oldest  # the oldest footage went first
            assert left[-1][1] > time.time() - 30  # the newest is kept, recording goes on
            files = {str(p.relative_to(root)) for p in (root / "segments").rglob("*.mp4")}
            assert {path for *_, path in left} <= files  # no row without its file
            assert client.get(f"/api/cameras/{camera}/status").json()["status"] == "online"
            filler.unlink()
            client.delete(f"/api/cameras/{camera}")
    finally:
        rtsp.stop()
        engine.dispose()


def test_disk_full_degrades_and_recovers(disk_instance, small_disk, tmp_path) -> None:
    clip = presence_scene(tmp_path / "scene.mp4")
    rtsp = RtspServer(to_annexb(clip), fps=25, log_path=tmp_path / "rtsp.log").start()
    try:
        with disk_instance.client() as client:
            camera = client.post("/api/cameras", json={"name": "Full", "rtsp_url": rtsp.url}
                                 ).json()["id"]

            def status() -> dict:
                return client.get(f"/api/cameras/{camera}/status").json()

            wait_for(lambda: status()["status"] == "online", 30, what="online")
            actor = ray.get_actor(names.camera_actor(camera), namespace="diskfull")
            pid = ray.get(actor.where.remote())["pid"]

            filler = fill(small_disk)
            degraded = wait_for(lambda: (s := status())["status"] == "error" and s, 30,
                                what="status error on a full disk")
            assert "No space left" in degraded["reason"], degraded

            filler.unlink()
            wait_for(lambda: status()["status"] == "online", 30, what="online once space is back")
            assert ray.get(actor.where.remote())["pid"] == pid  # degraded, never crashed
            segments = small_disk / "data" / "segments" / str(camera)
            since = time.time()
            wait_for(lambda: any(int(p.name.split("-")[0]) / 1000 > since
                                 for p in segments.glob("*.mp4")), 20, what="new segments")
            client.delete(f"/api/cameras/{camera}")
    finally:
        rtsp.stop()
