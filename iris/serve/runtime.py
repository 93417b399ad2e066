"""What the API needs from the running system: typed operations behind one Protocol.

`create_api` takes a `Runtime`. In production it is `RayRuntime` (iris/serve/ray_runtime.py,
the only place a route's call reaches Ray), which maps every actor error and timeout to
`ServiceUnavailable`. `OfflineRuntime` is an API with no Ray at all (Ray down, or plain tests):
cameras read as offline, live services answer `ServiceUnavailable`, and identity corrections run
in-process on an `IdentityCore` over the same DB and data root — the fallback `RayRuntime` uses
too while the IdentityManager is not running.

Routes turn `ServiceUnavailable` into a 503 carrying its `detail` (an exception handler of the
app); they never see a Ray type.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from iris.identity import IdentityCore, OpResult
from iris.messages import CameraState, RecordResult
from iris.serve.errors import (
    FACES_NOT_RUNNING,
    HLS_NOT_RUNNING,
    CameraNotRunning,
    ServiceUnavailable,
)

if TYPE_CHECKING:
    from iris.actors.hls import EnsureResult
    from iris.live.overlay import Overlay
    from iris.live.types import Fragment, LiveInit, LiveUnavailable
    from iris.models.face_types import FaceHit

class Runtime(Protocol):
    """Worker control and live state as the ingress sees them.

    Blocking methods are called from sync routes (FastAPI's thread pool); coroutines from
    async ones. Each raises `ServiceUnavailable` when the service behind it cannot answer,
    unless it says it degrades instead.
    """

    # ------------------------------------------------------------------ camera workers
    def sync_camera(self, camera_id: int) -> None:
        """Start, stop or restart the camera's worker so it matches its DB row."""

    def worker_states(self) -> dict[int, CameraState]:
        """Latest state per running camera id; empty while the manager cannot answer."""

    def camera_running(self, camera_id: int) -> bool:
        """Whether the camera has a worker now."""

    async def latest_jpeg(self, camera_id: int, after_seq: int,
                          wait_s: float) -> tuple[int, bytes] | None:
        """The camera's newest annotated JPEG after `after_seq`, waiting up to `wait_s`.

        None when nothing newer came (or no worker runs: it waits `wait_s` all the same, so a
        poller never spins).
        """

    async def snapshot_jpeg(self, camera_id: int, wait_s: float) -> bytes | None:
        """The camera's newest annotated JPEG, waiting up to `wait_s` for a first one.

        None when none came, and at once when no worker runs (a stopped camera's snapshot is
        "no signal" without a wait).
        """

    async def record_stop(self, camera_id: int, started_at: float) -> RecordResult:
        """Save the manual recording [started_at, now]; `CameraNotRunning` without a worker."""

    async def live_init(self, camera_id: int, wait_s: float) -> LiveInit | LiveUnavailable:
        """The camera's live MP4 init segment, waiting up to `wait_s` (it starts the muxer).

        `CameraNotRunning` without a worker.
        """

    def live_follow(self, camera_id: int, epoch: int, after_seq: int, wait_s: float,
                    span_s: float) -> AsyncGenerator[list[Fragment] | None, None]:
        """Live MP4 fragments of `epoch` after `after_seq` as they are cut, for about `span_s`.

        A batch per fragment, an empty batch after `wait_s` without one, and None, last, when
        the epoch ended (the stream reopened, the camera stopped or has no worker).
        """

    async def live_overlay(self, camera_id: int, after_seq: int,
                           wait_s: float) -> Overlay | None:
        """The camera's tracked boxes unless `after_seq` is theirs, waiting up to `wait_s`.

        None when nothing newer came (or no worker runs: it waits `wait_s` all the same).
        """

    # ------------------------------------------------------------------ models
    def detector_info(self) -> dict[str, Any]:
        """Detector availability, device, providers, class names and batch sizes (degrades)."""

    def face_index_info(self) -> dict[str, Any]:
        """Face recognizer availability and the enrolled-face index status and size (degrades)."""

    async def detect_faces(self, image: np.ndarray) -> list[FaceHit]:
        """Every face in the image (enrollment); `ServiceUnavailable` without face models."""

    # ------------------------------------------------------------------ identities
    def identity_stats(self) -> dict[str, Any] | None:
        """Gallery sizes and sightings assigned, or None when the identity layer is down."""

    def notify_stats(self) -> dict[str, Any] | None:
        """MQTT and webhook counters and last errors (`Notifier.stats`), or None when no
        Notifier answers (not configured, or restarting)."""

    def notify_cameras_changed(self) -> None:
        """Have discovery republished (a change no worker sync covers: a rename); never
        raises, never waits."""

    def identity_running(self) -> bool:
        """Whether the IdentityManager (and so auto split) is there."""

    async def identity_merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        """Fold `source_ids` into `target_id` (`IdentityNotFound`, `ValueError` pass through)."""

    async def identity_split(self, identity_id: int, *, sighting_ids: Sequence[int] | None,
                             auto: bool, new_name: str | None) -> OpResult:
        """Split sightings off into a new identity (auto needs `identity_running()`)."""

    async def identity_delete(self, identity_ids: Sequence[int]) -> OpResult:
        """Recursive delete of identities; `affected_ids` holds those that existed."""

    async def reload_people(self) -> None:
        """Have the people gallery rebuilt from the DB (after enrolled faces changed)."""

    # ------------------------------------------------------------------ live with sound
    async def hls_ensure(self, camera_id: int, wait_s: float) -> EnsureResult:
        """Start (idempotently) the camera's HLS session; its playlist once ready."""

    async def hls_running(self) -> set[int] | None:
        """Cameras whose HLS session runs now; None when that cannot be known."""

    def hls_close(self, camera_id: int) -> bool:
        """Stop the camera's HLS session; False when none ran."""

    @property
    def dashboard_url(self) -> str | None:
        """The Ray dashboard, when one runs."""


class OfflineRuntime:
    """No Ray: no workers, no models; identity corrections on an in-process core.

    Args:
        engine: the API's database.
        root: the data root (crops the corrections move or delete).
    """

    def __init__(self, engine: Engine, root: Path) -> None:
        self._engine = engine
        self._root = root

    def sync_camera(self, camera_id: int) -> None:
        return None

    def worker_states(self) -> dict[int, CameraState]:
        return {}

    def camera_running(self, camera_id: int) -> bool:
        return False

    async def latest_jpeg(self, camera_id: int, after_seq: int,
                          wait_s: float) -> tuple[int, bytes] | None:
        await asyncio.sleep(wait_s)
        return None

    async def snapshot_jpeg(self, camera_id: int, wait_s: float) -> bytes | None:
        return None

    async def record_stop(self, camera_id: int, started_at: float) -> RecordResult:
        raise CameraNotRunning(camera_id)

    async def live_init(self, camera_id: int, wait_s: float) -> LiveInit | LiveUnavailable:
        raise CameraNotRunning(camera_id)

    async def live_follow(self, camera_id: int, epoch: int, after_seq: int, wait_s: float,
                          span_s: float) -> AsyncGenerator[list[Fragment] | None, None]:
        yield None

    async def live_overlay(self, camera_id: int, after_seq: int,
                           wait_s: float) -> Overlay | None:
        await asyncio.sleep(wait_s)
        return None

    def detector_info(self) -> dict[str, Any]:
        return {"available": False, "reason": "Ray runtime not running"}

    def face_index_info(self) -> dict[str, Any]:
        return {"available": False, "status": "unavailable", "count": 0}

    async def detect_faces(self, image: np.ndarray) -> list[FaceHit]:
        raise ServiceUnavailable(FACES_NOT_RUNNING)

    def identity_stats(self) -> dict[str, Any] | None:
        return None

    def notify_stats(self) -> dict[str, Any] | None:
        return None

    def notify_cameras_changed(self) -> None:
        return None

    def identity_running(self) -> bool:
        return False

    def _core(self) -> IdentityCore:
        # A fresh core per correction: it writes rows and crops consistently, and whoever
        # holds galleries rebuilds them from the DB.
        return IdentityCore(self._engine, self._root)

    async def identity_merge(self, target_id: int, source_ids: Sequence[int]) -> OpResult:
        return await run_in_threadpool(lambda: self._core().merge(target_id, list(source_ids)))

    async def identity_split(self, identity_id: int, *, sighting_ids: Sequence[int] | None,
                             auto: bool, new_name: str | None) -> OpResult:
        return await run_in_threadpool(
            lambda: self._core().split(identity_id, sighting_ids=sighting_ids, auto=auto,
                                       new_name=new_name))

    async def identity_delete(self, identity_ids: Sequence[int]) -> OpResult:
        return await run_in_threadpool(lambda: self._core().delete(list(identity_ids)))

    async def reload_people(self) -> None:
        return None  # nothing holds a gallery: the actor builds it from the DB when it starts

    async def hls_ensure(self, camera_id: int, wait_s: float) -> EnsureResult:
        raise ServiceUnavailable(HLS_NOT_RUNNING)

    async def hls_running(self) -> set[int] | None:
        return None

    def hls_close(self, camera_id: int) -> bool:
        return False

    @property
    def dashboard_url(self) -> str | None:
        return None
