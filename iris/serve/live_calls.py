"""Camera actors' live long-polls over Ray: the one place they are called from the serving side.

`RayRuntime` (the ingress) and the Serve proxy's relay (`iris.serve.relay`) both use it. A
camera's handle is looked up by name once and kept until a call finds the actor gone (a restart
makes a new actor under the same name), so a poll costs one actor call, not a GCS lookup too.
Failures become `ServiceUnavailable`; a camera with no worker reads as its method documents.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import ray
from ray.actor import ActorHandle
from ray.exceptions import RayActorError

from iris import names
from iris.serve.runtime import CameraNotRunning, ServiceUnavailable

if TYPE_CHECKING:
    from iris.live.overlay import Overlay
    from iris.live.types import Fragment, LiveInit, LiveUnavailable

MARGIN_S = 10.0
"""A poll's answer may come this long after its wait before it counts as lost."""


class CameraCalls:
    """Live data from the camera actors of one instance (its Ray namespace)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._handles: dict[int, ActorHandle] = {}

    def _lookup(self, camera_id: int) -> ActorHandle | None:
        """The camera's actor from the GCS (kept), or None when it has no worker."""
        try:
            handle = ray.get_actor(names.camera_actor(camera_id), namespace=self.namespace)
        except ValueError:
            return None
        self._handles[camera_id] = handle
        return handle

    async def _call(self, camera_id: int, method: str, wait_s: float, *args: object) -> object:
        handle = self._handles.get(camera_id)
        if handle is None:  # a GCS lookup: off the event loop (stopped cameras ask every poll)
            handle = await asyncio.to_thread(self._lookup, camera_id)
        if handle is None:
            raise CameraNotRunning(camera_id)
        try:
            return await asyncio.wait_for(getattr(handle, method).remote(*args),
                                          wait_s + MARGIN_S)
        except RayActorError:
            self._handles.pop(camera_id, None)  # gone or restarting: look it up afresh
            raise
        except Exception as exc:
            raise ServiceUnavailable(f"Camera {camera_id} did not answer.") from exc

    async def _poll(self, camera_id: int, method: str, wait_s: float, *args: object,
                    pace: bool) -> object | None:
        """`method(*args, wait_s)`; None when the camera has no worker or is restarting: after
        `wait_s` when `pace` (so a poller never spins), at once otherwise."""
        try:
            return await self._call(camera_id, method, wait_s, *args, wait_s)
        except (CameraNotRunning, RayActorError):
            if pace:
                await asyncio.sleep(wait_s)
            return None

    async def latest_jpeg(self, camera_id: int, after_seq: int,
                          wait_s: float) -> tuple[int, bytes] | None:
        """The newest annotated JPEG after `after_seq`; None when none came (or no worker)."""
        result = await self._poll(camera_id, "latest_jpeg", wait_s, after_seq, pace=True)
        return result  # type: ignore[return-value]

    async def snapshot_jpeg(self, camera_id: int, wait_s: float) -> bytes | None:
        """The newest annotated JPEG, waiting up to `wait_s` for a first one; None when none
        came, at once when the camera has no worker or is restarting."""
        result = await self._poll(camera_id, "latest_jpeg", wait_s, -1, pace=False)
        return result[1] if result else None  # type: ignore[index]

    async def live_init(self, camera_id: int, wait_s: float) -> LiveInit | LiveUnavailable:
        """The live MP4 init segment (starts the camera's muxer); `CameraNotRunning`."""
        try:
            result = await self._call(camera_id, "live_init", wait_s, wait_s)
        except RayActorError as exc:
            raise ServiceUnavailable(f"Camera {camera_id} is restarting.") from exc
        return result  # type: ignore[return-value]

    async def live_fragments(self, camera_id: int, epoch: int, after_seq: int,
                             wait_s: float) -> list[Fragment] | None:
        """Fragments of `epoch` after `after_seq`; None once that epoch ended (the stream
        reopened, the camera stopped or has no worker)."""
        result = await self._poll(camera_id, "live_fragments", wait_s, epoch, after_seq,
                                  pace=False)
        return result  # type: ignore[return-value]

    async def live_overlay(self, camera_id: int, after_seq: int,
                           wait_s: float) -> Overlay | None:
        """The tracked boxes unless `after_seq` is theirs; None when nothing newer came (or no
        worker)."""
        result = await self._poll(camera_id, "live_overlay", wait_s, after_seq, pace=True)
        return result  # type: ignore[return-value]
