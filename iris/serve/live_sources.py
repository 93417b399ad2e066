"""What a live poller fetches from a camera, over whatever reaches the camera (no Ray here).

The ingress reaches cameras through its `Runtime`, the Serve proxy's relay through
`iris.serve.live_calls.CameraCalls`; both offer the same four calls (`LiveCalls`: three
long-polls and the MP4 fragments stream), and the pollers of every live stream (MJPEG frames,
MP4 fragments, overlay boxes) are built from them here, in one place.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Protocol

from iris.live.types import LiveUnavailable
from iris.serve.errors import CAMERA_NOT_RUNNING, CameraNotRunning
from iris.serve.live import Fetch
from iris.serve.mse import MseSource
from iris.serve.overlays import FetchOverlay

if TYPE_CHECKING:
    from iris.live.overlay import Overlay
    from iris.live.types import Fragment, LiveInit

LONG_POLL_S = 2.0
"""How long one poll waits at the camera for something new."""
FOLLOW_SPAN_S = 30.0
"""How long one streaming call of MP4 fragments lasts before the poller opens the next."""


class LiveCalls(Protocol):
    """The camera calls every live stream is made of."""

    async def latest_jpeg(self, camera_id: int, after_seq: int,
                          wait_s: float) -> tuple[int, bytes] | None: ...

    async def live_init(self, camera_id: int, wait_s: float) -> LiveInit | LiveUnavailable: ...

    def live_follow(self, camera_id: int, epoch: int, after_seq: int, wait_s: float,
                    span_s: float) -> AsyncGenerator[list[Fragment] | None, None]: ...

    async def live_overlay(self, camera_id: int, after_seq: int,
                           wait_s: float) -> Overlay | None: ...


def jpeg_fetch(calls: LiveCalls, camera_id: int) -> Fetch:
    """The MJPEG poller's fetch: the newest annotated JPEG after a sequence number."""
    async def fetch(after_seq: int) -> tuple[int, bytes] | None:
        return await calls.latest_jpeg(camera_id, after_seq, LONG_POLL_S)

    return fetch


def mse_source(calls: LiveCalls, camera_id: int) -> MseSource:
    """The MP4 poller's init call and fragments stream (no worker reads as unavailable)."""
    async def init() -> LiveInit | LiveUnavailable:
        try:
            return await calls.live_init(camera_id, LONG_POLL_S)
        except CameraNotRunning:
            return LiveUnavailable(CAMERA_NOT_RUNNING)

    def follow(epoch: int, after_seq: int) -> AsyncGenerator[list[Fragment] | None, None]:
        return calls.live_follow(camera_id, epoch, after_seq, LONG_POLL_S, FOLLOW_SPAN_S)

    return MseSource(init, follow)


def overlay_fetch(calls: LiveCalls, camera_id: int) -> FetchOverlay:
    """The overlay poller's fetch: the tracked boxes unless a sequence number is theirs."""
    async def fetch(after_seq: int) -> Overlay | None:
        return await calls.live_overlay(camera_id, after_seq, LONG_POLL_S)

    return fetch
