"""How live MP4 fragments leave a real camera actor: pushed over TCP, or over a streaming call.

The serving side's `CameraCalls` against the instance's own Ray (this process is its driver):
both paths deliver the same consecutive fragments from a keyframe, and a camera that cannot
reach its reader says so instead of hanging.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Iterator

import pytest
import ray
from ray.exceptions import RayTaskError

from iris import names
from iris.live.push import TOKEN_BYTES
from iris.live.types import Fragment, LiveInit
from iris.serve.live_calls import CameraCalls
from tests.integration.conftest import IrisInstance
from tests.support.clock_camera import ClockCamera
from tests.support.rtsp import gstreamer_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP missing")

FRAGMENTS = 4


@pytest.fixture(scope="module")
def camera_id(iris: IrisInstance, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    clock = ClockCamera(width=320, height=180, fps=15, codec="h264", audio="aac",
                        log_path=tmp_path_factory.mktemp("push") / "clock.log").start()
    with iris.client() as client:
        created = client.post("/api/cameras", json={"name": "push", "rtsp_url": clock.url,
                                                    "detect_interval": 60})
        assert created.status_code == 201, created.text
        camera_id = int(created.json()["id"])

        def online() -> bool:
            status = client.get(f"/api/cameras/{camera_id}/status").json()["status"]
            return bool(status == "online")

        wait_for(online, 60, what="camera online")
        yield camera_id
        client.delete(f"/api/cameras/{camera_id}")
    clock.stop()


async def follow(calls: CameraCalls, camera_id: int) -> list[Fragment]:
    """The first fragments one reader gets, from the newest keyframe on."""
    init = await calls.live_init(camera_id, 10.0)
    assert isinstance(init, LiveInit), init
    got: list[Fragment] = []
    stream = calls.live_follow(camera_id, init.epoch, -1, 2.0, 30.0)
    async for batch in stream:
        assert batch is not None, "the stream ended early"
        got += batch
        if len(got) >= FRAGMENTS:
            break
    await stream.aclose()
    return got


@pytest.mark.parametrize("push", [True, False], ids=["pushed", "streaming-call"])
def test_both_paths_deliver_consecutive_fragments_from_a_keyframe(
        iris: IrisInstance, camera_id: int, push: bool) -> None:
    calls = CameraCalls(iris.settings.ray_namespace, push=push)
    got = asyncio.run(asyncio.wait_for(follow(calls, camera_id), 60))
    assert got[0].keyframe
    assert [f.seq for f in got] == list(range(got[0].seq, got[0].seq + len(got)))
    assert (calls.pushes, calls.streams) == ((1, 0) if push else (0, 1))


def test_a_camera_that_cannot_reach_its_reader_raises_instead_of_hanging(
        iris: IrisInstance, camera_id: int) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    actor = ray.get_actor(names.camera_actor(camera_id), namespace=iris.settings.ray_namespace)
    init = ray.get(actor.live_init.remote(10.0), timeout=30)
    assert isinstance(init, LiveInit)
    with pytest.raises(RayTaskError) as raised:
        ray.get(actor.live_push.remote(init.epoch, -1, "127.0.0.1", port,
                                       secrets.token_bytes(TOKEN_BYTES)), timeout=30)
    assert isinstance(raised.value.cause, ConnectionRefusedError)
