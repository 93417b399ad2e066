"""Overlay events: the newest boxes for every viewer, stale boxes cleared, one poller."""

from __future__ import annotations

import asyncio
import json

import pytest

from iris.live.overlay import Overlay, TrackedBox
from iris.serve import overlays
from iris.serve.overlays import OverlayHub
from tests.unit.serve.test_mse_fanout import Viewer, until

BOX = TrackedBox("person", 3, 0.9, (0.1, 0.2, 0.3, 0.4))


def events(data: bytes) -> list[dict]:
    found = []
    for block in data.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line
                     and not line.startswith(":"))
        if lines.get("event") == "detections":
            found.append(json.loads(lines["data"]))
    return found


class FakeFeed:
    def __init__(self) -> None:
        self.latest = Overlay(0, 0.0)
        self.changed = asyncio.Event()
        self.calls = 0

    async def fetch(self, after: int) -> Overlay | None:
        self.calls += 1
        if self.latest.seq == after:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), 0.5)
            except TimeoutError:
                return None
        return self.latest

    def publish(self, *boxes: TrackedBox) -> None:
        self.latest = Overlay(self.latest.seq + 1, 1000.0 + self.latest.seq, tuple(boxes))
        self.changed.set()


def test_viewers_get_each_new_set_of_boxes_and_stale_ones_are_cleared(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(overlays, "OVERLAY_MAX_AGE_S", 0.2)

    async def main() -> None:
        hub, feed = OverlayHub(), FakeFeed()
        viewers = [Viewer(hub.stream(1, feed.fetch)) for _ in range(2)]
        feed.publish(BOX)
        await until(lambda: all(any(e["boxes"] for e in events(v.data)) for v in viewers))
        first = events(viewers[0].data)[-1]
        assert first["boxes"] == [{"label": "person", "track_id": 3, "score": 0.9,
                                   "box": [0.1, 0.2, 0.3, 0.4], "zones": []}]
        # Nothing refreshes them: both viewers are told the boxes are gone.
        await until(lambda: all(events(v.data)[-1]["boxes"] == [] for v in viewers))
        assert events(viewers[0].data)[-1]["seq"] == first["seq"]
        assert viewers[0].data.startswith(b"retry: ")
        for viewer in viewers:
            await viewer.close()

    asyncio.run(main())
