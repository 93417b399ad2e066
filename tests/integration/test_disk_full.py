"""A full disk degrades one camera's recording (status error, no crash) until space returns."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from iris import names
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
    with extra_instance(iris, "diskfull", data_dir=small_disk / "data",
                        database_url=f"sqlite:///{tmp_path / 'iris.db'}") as instance:
        yield instance


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
