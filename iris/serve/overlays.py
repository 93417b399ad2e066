"""Detection overlays as server-sent events: one poller per camera, fanned out (no Ray here).

Each event is the camera's latest tracked boxes (`iris.live.overlay.Overlay` as JSON), sent at
the detection rate. A viewer always gets the newest boxes (one that was busy skips those it
missed, as video does); boxes that nothing refreshed for `OVERLAY_MAX_AGE_S` are cleared with an
empty event, and a comment line every `HEARTBEAT_S` keeps idle connections open through proxies.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from iris.live.overlay import OVERLAY_MAX_AGE_S, Overlay
from iris.serve.fanout import Poller

HEARTBEAT_S = 15.0
MEDIA_TYPE = "text/event-stream"
EVENT = "detections"

FetchOverlay = Callable[[int], Awaitable[Overlay | None]]


class OverlayPoller(Poller):
    """One camera's latest boxes, long-polled while anyone watches."""

    def __init__(self, name: str, fetch: FetchOverlay) -> None:
        super().__init__(name)
        self.fetch = fetch
        self.latest: Overlay | None = None
        self.received_at = 0.0

    async def poll(self) -> None:
        got = await self.fetch(self.latest.seq if self.latest is not None else -1)
        if got is not None:
            self.latest, self.received_at = got, time.monotonic()
            await self.publish()

    def stopped(self) -> None:
        self.latest = None


def sse(overlay: Overlay, *, cleared: bool = False) -> bytes:
    """One server-sent event: ``id``, ``event: detections`` and the boxes as JSON data."""
    data = overlay.as_dict()
    if cleared:
        data["boxes"] = []
    return f"id: {overlay.seq}\nevent: {EVENT}\ndata: {json.dumps(data)}\n\n".encode()


class OverlayHub:
    """The ingress's overlay pollers, one per camera, created on first viewer."""

    def __init__(self) -> None:
        self._pollers: dict[int, OverlayPoller] = {}

    def poller(self, camera_id: int, fetch: FetchOverlay) -> OverlayPoller:
        poller = self._pollers.get(camera_id)
        if poller is None:
            poller = self._pollers[camera_id] = OverlayPoller(f"overlay-{camera_id}", fetch)
        return poller

    async def stream(self, camera_id: int, fetch: FetchOverlay) -> AsyncIterator[bytes]:
        """One viewer's events: the current boxes at once (if any), then each new set."""
        poller = self.poller(camera_id, fetch)
        poller.join()
        try:
            yield b"retry: 2000\n\n"  # how soon an EventSource reconnects after a restart
            version, shown = -1, False
            while True:
                latest = poller.latest
                if latest is not None and poller.version != version:
                    version, shown = poller.version, bool(latest.boxes)
                    yield sse(latest)
                    continue
                if latest is None:
                    version = poller.version  # nothing to show yet: wait for the first boxes
                timeout = HEARTBEAT_S
                if shown:  # clear boxes nothing refreshed (a static scene skips detection)
                    timeout = max(0.0, poller.received_at + OVERLAY_MAX_AGE_S - time.monotonic())
                if await poller.wait_newer(version, timeout):
                    continue
                if shown and poller.latest is not None:
                    shown = False
                    yield sse(poller.latest, cleared=True)
                else:
                    yield b": keep-alive\n\n"
        finally:
            poller.leave()
