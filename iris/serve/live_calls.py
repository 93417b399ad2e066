"""Camera actors' live long-polls over Ray: the one place they are called from the serving side.

`RayRuntime` (the ingress) and the Serve proxy's relay (`iris.serve.relay`) both use it. A
camera's handle is looked up by name once and kept until a call finds the actor gone (a restart
makes a new actor under the same name), so a poll costs one actor call, not a GCS lookup too.
Failures become `ServiceUnavailable`; a camera with no worker reads as its method documents.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import ray
from ray import ObjectRefGenerator
from ray.actor import ActorHandle
from ray.exceptions import RayActorError

from iris import names
from iris.live.push import CONNECT_S, TOKEN_BYTES, PushListener
from iris.serve.errors import CameraNotRunning, ServiceUnavailable

if TYPE_CHECKING:
    from iris.live.overlay import Overlay
    from iris.live.types import Fragment, LiveInit, LiveUnavailable

log = logging.getLogger(__name__)

MARGIN_S = 10.0
"""A poll's answer may come this long after its wait before it counts as lost."""


class CameraCalls:
    """Live data from the camera actors of one instance (its Ray namespace)."""

    def __init__(self, namespace: str, push: bool = True) -> None:
        """`push` False: MP4 fragments always take the streaming call (tests of that path)."""
        self.namespace = namespace
        self.push = push
        self._handles: dict[int, ActorHandle] = {}
        self._host: str | None = None
        self.pushes = 0  # MP4 follows the camera pushed / that took the streaming call
        self.streams = 0

    def _lookup(self, camera_id: int) -> ActorHandle | None:
        """The camera's actor from the GCS (kept), or None when it has no worker."""
        try:
            handle = ray.get_actor(names.camera_actor(camera_id), namespace=self.namespace)
        except ValueError:
            return None
        self._handles[camera_id] = handle
        return handle

    async def _handle(self, camera_id: int) -> ActorHandle:
        """The camera's actor (kept, or looked up); `CameraNotRunning` when it has no worker."""
        handle = self._handles.get(camera_id)
        if handle is None:  # a GCS lookup: off the event loop (stopped cameras ask every poll)
            handle = await asyncio.to_thread(self._lookup, camera_id)
        if handle is None:
            raise CameraNotRunning(camera_id)
        return handle

    async def _call(self, camera_id: int, method: str, wait_s: float, *args: object) -> object:
        handle = await self._handle(camera_id)
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

    async def live_follow(self, camera_id: int, epoch: int, after_seq: int, wait_s: float,
                          span_s: float) -> AsyncGenerator[list[Fragment] | None, None]:
        """Fragments of `epoch` after `after_seq` as the camera cuts them: a batch per fragment
        (empty ones while a stream call waits) and None, last, once that epoch ended (the
        stream reopened, the camera stopped or has no worker) or the camera went quiet.

        The camera pushes them to a one-time listener here (`CameraActor.live_push`), so a
        fragment costs it no call at all; where it cannot reach this process, one streaming
        call of about `span_s` (`CameraActor.live_stream`) carries them instead. Leaving early
        ends either.
        """
        try:
            handle = await self._handle(camera_id)
        except CameraNotRunning:
            yield None
            return
        if self.push:
            async with PushListener(self._push_host(),
                                    secrets.token_bytes(TOKEN_BYTES)) as listener:
                pushing: bool | None
                try:
                    pushing = await asyncio.wait_for(
                        handle.live_push.remote(epoch, after_seq, listener.host, listener.port,
                                                listener.token), CONNECT_S + MARGIN_S)
                except RayActorError:
                    self._handles.pop(camera_id, None)  # gone or restarting: look it up afresh
                    yield None
                    return
                except Exception as exc:  # noqa: BLE001 - unreachable from there: stream
                    log.info("camera %s cannot push live fragments here (%s); streaming them",
                             camera_id, exc)
                    pushing = None
                if pushing is False:
                    yield None
                    return
                if pushing:
                    self.pushes += 1
                    async for batch in listener.fragments(wait_s + MARGIN_S):
                        yield batch
                    return
        async for batch in self._stream(handle, camera_id, epoch, after_seq, wait_s, span_s):
            yield batch

    async def _stream(self, handle: ActorHandle, camera_id: int, epoch: int, after_seq: int,
                      wait_s: float, span_s: float,
                      ) -> AsyncGenerator[list[Fragment] | None, None]:
        """`live_follow` over one streaming call (`CameraActor.live_stream`)."""
        self.streams += 1
        stream: ObjectRefGenerator = handle.live_stream.options(num_returns="streaming").remote(
            epoch, after_seq, wait_s, span_s)
        finished = False
        try:
            while True:
                try:
                    ref = await asyncio.wait_for(anext(stream), wait_s + MARGIN_S)
                    batch = await ref
                except StopAsyncIteration:
                    finished = True
                    return
                except RayActorError:
                    finished = True
                    self._handles.pop(camera_id, None)
                    yield None
                    return
                except Exception as exc:
                    raise ServiceUnavailable(f"Camera {camera_id} did not answer.") from exc
                yield batch
                if batch is None:
                    finished = True
                    return
        finally:
            if not finished:
                ray.cancel(stream)  # the reader left: the camera's call ends at its next wake

    def _push_host(self) -> str:
        """The address cameras connect to for pushes: this process's Ray node address."""
        if self._host is None:
            self._host = ray.util.get_node_ip_address()
        return self._host

    async def live_overlay(self, camera_id: int, after_seq: int,
                           wait_s: float) -> Overlay | None:
        """The tracked boxes unless `after_seq` is theirs; None when nothing newer came (or no
        worker)."""
        result = await self._poll(camera_id, "live_overlay", wait_s, after_seq, pace=True)
        return result  # type: ignore[return-value]
