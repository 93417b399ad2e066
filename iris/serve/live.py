"""MJPEG fan-out: one poller per camera, capped viewers (no Ray here).

A `FramePoller` long-polls the camera for frames newer than the last one it saw, at the highest
rate any current viewer asked for, and stops as soon as the last viewer leaves, so a camera
nobody watches encodes no JPEG at all. Each frame's multipart part is built once, whoever
watches. The hubs run in the Serve proxy when it relays the stream (`iris.serve.relay`), else
in the ingress. Every stream holds a `StreamSlot` (caps in all and per
principal) until it ends, and asks the proxy to close it when its client stops reading
(`iris.serve.proxy_guard`): the ingress itself never sees a slow socket.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from iris.serve.fanout import Poller
from iris.serve.limits import StreamSlot, StreamSlots
from iris.serve.proxy_guard import stamp, write_timeout_header
from iris.settings import Settings

log = logging.getLogger("iris.live")

Fetch = Callable[[int], Awaitable[tuple[int, bytes] | None]]
BOUNDARY = "irisframe"


class FramePoller(Poller):
    """Pulls one camera's newest JPEG while anyone watches, at the fastest rate one asked for."""

    def __init__(self, fetch: Fetch, max_fps: float) -> None:
        super().__init__("mjpeg")
        self._fetch = fetch
        self._max_fps = max_fps
        self._rates: dict[int, float] = {}
        self._next_viewer = 0
        self.seq = -1
        self.jpeg: bytes | None = None
        self.part: bytes | None = None  # the multipart part of `jpeg`

    def join_at(self, fps: float) -> int:
        """A viewer asking for `fps` arrives; its id, for `leave_viewer`."""
        viewer = self._next_viewer
        self._next_viewer += 1
        self._rates[viewer] = fps
        self.join()
        return viewer

    def leave_viewer(self, viewer: int) -> None:
        self._rates.pop(viewer, None)
        self.leave()

    async def poll(self) -> None:
        started = time.monotonic()
        result = await self._fetch(self.seq)
        if result is not None and result[0] != self.seq:
            self.seq, self.jpeg = result
            self.part = _part(self.jpeg)
            await self.publish()
        rate = min(self._max_fps, max(self._rates.values(), default=1.0))
        await asyncio.sleep(max(0.0, 1.0 / rate - (time.monotonic() - started)))


class MjpegHub:
    """MJPEG pollers, one per camera id, created on first viewer, fanned out to its viewers."""

    def __init__(self, max_fps: float) -> None:
        self.max_fps = max_fps
        self._pollers: dict[int, FramePoller] = {}

    def poller(self, camera_id: int, fetch: Fetch) -> FramePoller:
        poller = self._pollers.get(camera_id)
        if poller is None:
            poller = self._pollers[camera_id] = FramePoller(fetch, self.max_fps)
        return poller

    def clamp(self, fps: float | None) -> float:
        """?fps= clamped to [1, live_mjpeg_fps]; absent means full rate."""
        if fps is None:
            return self.max_fps
        return min(max(fps, 1.0), self.max_fps)

    async def stream(self, camera_id: int, fetch: Fetch, fps: float | None,
                     prime: bytes) -> AsyncIterator[bytes]:
        """multipart/x-mixed-replace parts: a prime frame, then each changed frame at ≤ fps."""
        rate = self.clamp(fps)
        poller = self.poller(camera_id, fetch)
        viewer = poller.join_at(rate)
        try:
            sent = poller.seq
            yield poller.part or _part(prime)
            next_at = time.monotonic() + 1.0 / rate
            while True:
                await poller.wait_until(_newer_than(poller, sent), None)
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if poller.part is None:
                    continue
                sent = poller.seq
                yield poller.part  # built once per frame, whoever watches
                next_at = max(next_at + 1.0 / rate, time.monotonic())
        finally:
            poller.leave_viewer(viewer)
            log.debug("camera %s: viewer left (%d remain)", camera_id, poller.viewers)


class LiveHub(MjpegHub):
    """The app's MJPEG hub, with the caps every live stream of the app (MJPEG, MP4, SSE) shares."""

    def __init__(self, max_fps: float, slots: StreamSlots) -> None:
        super().__init__(max_fps)
        self.slots = slots


def live_hub(request: Request, settings: Settings) -> LiveHub:
    """The app's MJPEG hub, which holds the caps every live stream (MJPEG, MP4, SSE) shares."""
    hub = getattr(request.app.state, "live_hub", None)
    if hub is None:
        slots = StreamSlots(settings.live_max_viewers, settings.live_max_viewers_per_principal)
        hub = request.app.state.live_hub = LiveHub(settings.live_mjpeg_fps, slots)
    return hub  # type: ignore[no-any-return]


class LiveStreamResponse(StreamingResponse):
    """A live stream that holds its viewer slot until it ends and bounds its writes.

    Each message carries when it was produced, and the headers the write timeout, for the
    proxy's guard. The slot goes back when the response ends, and also when it is dropped
    without ever being sent (a request cancelled between the route and the send).
    """

    def __init__(self, content: AsyncIterator[bytes], slot: StreamSlot, *,
                 write_timeout_s: float, media_type: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(content, media_type=media_type,
                         headers={**(headers or {}), **write_timeout_header(write_timeout_s)})
        self.slot = slot
        weakref.finalize(self, slot.release)

    async def stream_response(self, send: Send) -> None:
        async def stamped(message: Message) -> None:
            await send(stamp(message))

        await super().stream_response(stamped)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


def _newer_than(poller: FramePoller, seq: int) -> Callable[[], bool]:
    return lambda: poller.seq != seq


def _part(jpeg: bytes) -> bytes:
    header = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
              f"Content-Length: {len(jpeg)}\r\n\r\n").encode()
    return header + jpeg + b"\r\n"
