"""MJPEG fan-out in the ingress: one poller per camera, capped viewers (no Ray here).

A `FramePoller` long-polls the camera for frames newer than the last one it saw, at the highest
rate any current viewer asked for, and stops as soon as the last viewer leaves, so a camera
nobody watches encodes no JPEG at all. Every stream holds a `StreamSlot` (caps in all and per
principal) until it ends, and asks the proxy to close it when its client stops reading
(`iris.serve.proxy_guard`): the ingress itself never sees a slow socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from iris.serve.limits import StreamSlot, StreamSlots
from iris.serve.proxy_guard import stamp, write_timeout_header
from iris.settings import Settings

log = logging.getLogger("iris.live")

Fetch = Callable[[int], Awaitable[tuple[int, bytes] | None]]
BOUNDARY = "irisframe"


class FramePoller:
    """Pulls one camera's newest JPEG while anyone watches; viewers wait on `changed`."""

    def __init__(self, fetch: Fetch, max_fps: float) -> None:
        self._fetch = fetch
        self._max_fps = max_fps
        self._rates: dict[int, float] = {}
        self._next_viewer = 0
        self._task: asyncio.Task[None] | None = None
        self.seq = -1
        self.jpeg: bytes | None = None
        self.changed = asyncio.Condition()
        self.fetches = 0

    @property
    def viewers(self) -> int:
        return len(self._rates)

    def join(self, fps: float) -> int:
        viewer = self._next_viewer
        self._next_viewer += 1
        self._rates[viewer] = fps
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return viewer

    def leave(self, viewer: int) -> None:
        self._rates.pop(viewer, None)
        if not self._rates and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while self._rates:
            started = time.monotonic()
            try:
                result = await self._fetch(self.seq)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - camera restarting: retry shortly
                log.debug("frame fetch failed: %s", exc)
                await asyncio.sleep(0.5)
                continue
            self.fetches += 1
            if result is not None and result[0] != self.seq:
                self.seq, self.jpeg = result
                async with self.changed:
                    self.changed.notify_all()
            rate = min(self._max_fps, max(self._rates.values(), default=1.0))
            await asyncio.sleep(max(0.0, 1.0 / rate - (time.monotonic() - started)))


class LiveHub:
    """The ingress's pollers, one per camera id, created on first viewer, and its stream caps."""

    def __init__(self, max_fps: float, slots: StreamSlots) -> None:
        self.max_fps = max_fps
        self.slots = slots
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
        viewer = poller.join(rate)
        try:
            sent = poller.seq
            yield _part(poller.jpeg or prime)
            next_at = time.monotonic() + 1.0 / rate
            while True:
                async with poller.changed:
                    await poller.changed.wait_for(_newer_than(poller, sent))
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if poller.jpeg is None:
                    continue
                sent = poller.seq
                yield _part(poller.jpeg)
                next_at = max(next_at + 1.0 / rate, time.monotonic())
        finally:
            poller.leave(viewer)
            with contextlib.suppress(Exception):
                log.debug("camera %s: viewer left (%d remain)", camera_id, poller.viewers)


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
