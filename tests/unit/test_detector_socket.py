"""The Detector's local socket: frames arrive intact, failures reach the camera, the camera falls
back to the Serve handle, and the socket sits in a folder only its user can enter."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from iris.actors.camera import SOCKET_RETRY_S, ServeDetector
from iris.detector_socket import (
    FOLDER_PREFIX,
    REQUEST,
    SOCKET_NAME,
    DetectorSocketClient,
    DetectorSocketServer,
    LocalCallFailed,
    remove_abandoned,
)
from iris.types import Detections
from tests.support.wait import wait_for


async def echo_detect(frame: np.ndarray, conf: float, iou: float) -> Detections:
    """One box that tells what arrived: the frame's shape and checksum, conf and iou."""
    if conf < 0:
        raise RuntimeError("negative confidence")
    checksum = float(frame.astype(np.int64).sum() % 1000)
    return Detections(xyxy=[[frame.shape[0], frame.shape[1], checksum, iou]],
                      confidence=[conf], class_id=[int(frame[0, 0, 0])])


class Loop:
    """An asyncio loop on a thread, as the replica's user-code loop is."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def shut(self, server: DetectorSocketServer) -> None:
        """Close ``server`` on this loop (Serve runs `__del__` on its) and wait for its cameras'
        connections to be gone."""
        async def close() -> None:
            server.close()

        self.run(close())
        wait_for(lambda: server.connections == 0, 10, what="connections closed")

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture()
def served() -> Iterator[tuple[DetectorSocketServer, str, Loop]]:
    loop = Loop()
    server = DetectorSocketServer(echo_detect)
    path = loop.run(server.start())
    yield server, path, loop
    loop.shut(server)
    loop.stop()


def frame(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_frames_arrive_intact_and_answers_come_back(served) -> None:
    server, path, _ = served
    client = DetectorSocketClient(path, timeout_s=10)
    for seed, (height, width) in enumerate([(320, 320), (192, 640), (1, 7)]):
        image = frame(height, width, seed)
        dets = client.detect(image, 0.25, 0.45)
        expected = [height, width, image.astype(np.int64).sum() % 1000, 0.45]
        np.testing.assert_allclose(dets.xyxy[0], expected, rtol=1e-6)
        assert dets.confidence.tolist() == pytest.approx([0.25])
        assert dets.class_id.tolist() == [int(image[0, 0, 0])]
        dets.xyxy[0, 0] += 1  # writable, as the handle's answers are
    assert server.requests == 3
    strided = frame(64, 64, 9)[:, ::2]  # not contiguous: sent as its pixels, not its buffer
    assert client.detect(strided, 0.5, 0.5).xyxy[0, 1] == 32
    client.close()


def test_a_failed_detection_reaches_the_camera_with_its_reason(served) -> None:
    _, path, _ = served
    client = DetectorSocketClient(path, timeout_s=10)
    with pytest.raises(LocalCallFailed, match="negative confidence"):
        client.detect(frame(8, 8, 1), -1.0, 0.5)
    assert len(client.detect(frame(8, 8, 1), 0.5, 0.5)) == 1  # and the next call works


@pytest.mark.parametrize("header", [
    REQUEST.pack(b"XXXX", 8, 8, 3, 0.5, 0.5),  # not our protocol
    REQUEST.pack(b"IRD1", 8, 8, 4, 0.5, 0.5),  # not BGR
    REQUEST.pack(b"IRD1", 60000, 60000, 3, 0.5, 0.5),  # 10 GiB announced
    REQUEST.pack(b"IRD1", 0, 8, 3, 0.5, 0.5),
])
def test_a_malformed_request_is_refused_and_others_are_still_served(served, header) -> None:
    _, path, _ = served
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(10)
        raw.connect(path)
        raw.sendall(header)
        answer = b""
        while chunk := raw.recv(4096):  # the server answers, then closes
            answer += chunk
    assert b"malformed request" in answer
    assert len(DetectorSocketClient(path, timeout_s=10).detect(frame(8, 8, 2), 0.5, 0.5)) == 1


def test_only_the_user_can_reach_the_socket_and_close_removes_it(served) -> None:
    server, path, loop = served
    folder = Path(path).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    client = DetectorSocketClient(path, timeout_s=10)
    client.detect(frame(8, 8, 3), 0.5, 0.5)
    loop.shut(server)
    assert not folder.exists() and server.path is None
    client.close()  # a new connection now finds nothing to connect to
    with pytest.raises(LocalCallFailed):
        client.detect(frame(8, 8, 3), 0.5, 0.5)


class Answer:
    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self, timeout_s: float) -> Any:
        return self.value


class Method:
    def __init__(self, answer: Any) -> None:
        self.answer, self.calls = answer, 0

    def remote(self, *_args: Any) -> Answer:
        self.calls += 1
        return Answer(self.answer)


class Handle:
    """Stands in for Serve's `DeploymentHandle` (not Iris code): `.method.remote().result()`."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = Method(info)
        self.detect = Method(Detections.empty())


def camera(path: str, host: str | None = None) -> tuple[ServeDetector, Handle]:
    """A camera's detector client whose handle's `info()` names ``path`` on ``host``."""
    handle = Handle({"available": True,
                     "local_socket": {"path": path, "host": host or socket.gethostname()}})
    detector = ServeDetector(handle)  # type: ignore[arg-type]
    detector.info()
    return detector, handle


def test_the_camera_sends_frames_to_the_socket_its_host_has(served) -> None:
    server, path, _ = served
    detector, handle = camera(path)
    assert len(detector.detect(frame(8, 8, 4), 0.5, 0.5)) == 1
    assert (handle.detect.calls, server.requests) == (0, 1)


def test_the_camera_ignores_another_hosts_socket(served) -> None:
    server, path, _ = served
    detector, handle = camera(path, host="elsewhere")
    detector.detect(frame(8, 8, 5), 0.5, 0.5)
    assert (handle.detect.calls, server.requests) == (1, 0)


def test_the_camera_falls_back_to_the_handle_and_finds_the_new_socket(served, monkeypatch) -> None:
    server, path, loop = served
    clock = [1000.0]
    monkeypatch.setattr("iris.actors.camera.time", SimpleNamespace(monotonic=lambda: clock[0]))
    detector, handle = camera(path)
    detector.detect(frame(8, 8, 6), 0.5, 0.5)
    loop.shut(server)  # the replica went away
    detector.detect(frame(8, 8, 6), 0.5, 0.5)  # the open connection breaks: the handle answers
    detector.detect(frame(8, 8, 6), 0.5, 0.5)  # and keeps answering until the retry is due
    assert (handle.detect.calls, server.requests) == (2, 1)

    restarted = DetectorSocketServer(echo_detect)  # Serve started another replica
    handle.info.answer = {"available": True, "local_socket": {
        "path": loop.run(restarted.start()), "host": socket.gethostname()}}
    clock[0] += SOCKET_RETRY_S + 1
    detector.detect(frame(8, 8, 6), 0.5, 0.5)  # retry due: asks info() again, uses its socket
    assert (handle.detect.calls, restarted.requests) == (2, 1)
    loop.shut(restarted)


def test_a_socket_file_removed_under_the_replica_is_made_again(served) -> None:
    server, path, loop = served
    os.unlink(path)  # a /tmp cleaner took it: new cameras could not connect
    again = loop.run(server.start())
    assert again != path and os.path.exists(again) and not Path(path).parent.exists()
    assert len(DetectorSocketClient(again, timeout_s=10).detect(frame(8, 8, 7), 0.5, 0.5)) == 1


def test_folders_of_killed_replicas_are_removed_and_live_ones_kept(served, tmp_path) -> None:
    _, live_path, _ = served
    dead = tmp_path / (FOLDER_PREFIX + "dead")
    dead.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bound:
        bound.bind(str(dead / SOCKET_NAME))  # bound, never listening: as a killed replica left it
    starting = tmp_path / (FOLDER_PREFIX + "starting")
    starting.mkdir()  # a replica between mkdtemp and bind
    live = tmp_path / (FOLDER_PREFIX + "live")
    live.mkdir()
    os.symlink(live_path, live / SOCKET_NAME)  # answers connections
    assert remove_abandoned(tmp_path) == [dead]
    assert starting.exists() and live.exists() and not dead.exists()
