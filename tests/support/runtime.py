"""A `Runtime` without Ray for route tests: it answers what a test sets and records calls.

Every answer can be an exception instead (e.g. `ServiceUnavailable("…")`), which the operation
raises, as `RayRuntime` does when an actor does not answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iris.actors.hls import EnsureResult
from iris.identity import OpResult
from iris.messages import CameraState, RecordResult
from iris.models.face_types import FaceHit
from iris.serve.errors import CameraNotRunning


def _answer(value: Any) -> Any:
    if isinstance(value, BaseException):
        raise value
    return value


@dataclass
class FakeRuntime:
    """Camera workers, models, identities and HLS as plain attributes."""

    states: dict[int, CameraState] = field(default_factory=dict)
    running: set[int] = field(default_factory=set)
    frames: dict[int, tuple[int, bytes] | BaseException] = field(default_factory=dict)
    recorded: RecordResult | BaseException = field(default_factory=RecordResult)
    sync_error: BaseException | None = None
    detector: dict[str, Any] = field(
        default_factory=lambda: {"available": False, "reason": "fake runtime"})
    faces: list[FaceHit] | BaseException = field(default_factory=list)
    identity_up: bool = True
    identity_result: OpResult | BaseException = field(default_factory=lambda: OpResult(
        ok=True, target_id=None, affected_ids=[], moved_sightings=0, detail="fake"))
    reload_error: BaseException | None = None
    hls: EnsureResult | BaseException = field(
        default_factory=lambda: EnsureResult("ready", playlist="#EXTM3U\n"))
    hls_sessions: set[int] | None = None
    hls_closes: bool | BaseException = True
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def called(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every call of operation `name`, in order."""
        return [call[1:] for call in self.calls if call[0] == name]

    # ------------------------------------------------------------------ camera workers
    def sync_camera(self, camera_id: int) -> None:
        self.calls.append(("sync_camera", camera_id))
        if self.sync_error is not None:
            raise self.sync_error

    def worker_states(self) -> dict[int, CameraState]:
        return dict(self.states)

    def camera_running(self, camera_id: int) -> bool:
        return camera_id in self.running

    async def latest_jpeg(self, camera_id: int, after_seq: int,
                          wait_s: float) -> tuple[int, bytes] | None:
        self.calls.append(("latest_jpeg", camera_id, after_seq, wait_s))
        return _answer(self.frames.get(camera_id))  # type: ignore[no-any-return]

    async def snapshot_jpeg(self, camera_id: int, wait_s: float) -> bytes | None:
        self.calls.append(("snapshot_jpeg", camera_id, wait_s))
        if camera_id not in self.running:
            return None
        frame = _answer(self.frames.get(camera_id))
        return frame[1] if frame else None  # type: ignore[no-any-return]

    async def record_stop(self, camera_id: int, started_at: float) -> RecordResult:
        self.calls.append(("record_stop", camera_id, started_at))
        if camera_id not in self.running:
            raise CameraNotRunning(camera_id)
        return _answer(self.recorded)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ models
    def detector_info(self) -> dict[str, Any]:
        return dict(self.detector)

    def face_index_info(self) -> dict[str, Any]:
        return {"available": False, "status": "unavailable", "count": 0}

    async def detect_faces(self, image: np.ndarray) -> list[FaceHit]:
        self.calls.append(("detect_faces", image.shape))
        return list(_answer(self.faces))

    # ------------------------------------------------------------------ identities
    def identity_stats(self) -> dict[str, Any] | None:
        return None

    def notify_stats(self) -> dict[str, Any] | None:
        return None

    def notify_cameras_changed(self) -> None:
        self.calls.append(("notify_cameras_changed",))

    def identity_running(self) -> bool:
        return self.identity_up

    async def identity_merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        self.calls.append(("identity_merge", target_id, list(source_ids)))
        return _answer(self.identity_result)  # type: ignore[no-any-return]

    async def identity_split(self, identity_id: int, *, sighting_ids: Sequence[int] | None,
                             auto: bool, new_name: str | None) -> OpResult:
        self.calls.append(("identity_split", identity_id, sighting_ids, auto, new_name))
        return _answer(self.identity_result)  # type: ignore[no-any-return]

    async def identity_delete(self, identity_ids: Sequence[int]) -> OpResult:
        self.calls.append(("identity_delete", list(identity_ids)))
        return _answer(self.identity_result)  # type: ignore[no-any-return]

    async def reload_people(self) -> None:
        self.calls.append(("reload_people",))
        if self.reload_error is not None:
            raise self.reload_error

    # ------------------------------------------------------------------ live with sound
    async def hls_ensure(self, camera_id: int, wait_s: float) -> EnsureResult:
        self.calls.append(("hls_ensure", camera_id, wait_s))
        return _answer(self.hls)  # type: ignore[no-any-return]

    async def hls_running(self) -> set[int] | None:
        return self.hls_sessions

    def hls_close(self, camera_id: int) -> bool:
        self.calls.append(("hls_close", camera_id))
        return bool(_answer(self.hls_closes))

    @property
    def dashboard_url(self) -> str | None:
        return None
