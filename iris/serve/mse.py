"""Live fragmented MP4 in the ingress: one fragment poller per camera, fanned out (no Ray here).

A `FragmentPoller` pulls one camera's init segment, then follows its fragments (one streaming
call at a time, not a call per fragment) while anyone watches, into a small shared ring. Each
viewer streams the init segment, the fragments from the newest keyframe on, then every new
fragment. A viewer holds no queue of its own: it reads the shared ring from a cursor, so what it
may owe is bounded by the ring; one that falls behind (more than `MAX_BACKLOG` fragments, or
past the ring) skips to the newest keyframe fragment instead of buffering. A viewer's stream
ends when the camera's epoch ends (the stream reopened, the camera stopped): the player
reconnects and gets the new init segment.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from iris.live.types import Fragment, LiveInit, LiveUnavailable
from iris.serve.fanout import Poller

RING_FRAGMENTS = 32
MAX_BACKLOG = 6
"""Fragments (≈ 3 s) a viewer may owe before it skips to the newest keyframe."""
UNAVAILABLE_RETRY_S = 1.0
LINGER_S = 3.0
"""A poller keeps going this long after its last viewer (a reload, a camera switch)."""
READY_WAIT_S = 6.0
"""How long a new viewer waits for the camera's init segment (a GOP at most)."""
MEDIA_TYPE = "video/mp4"

FetchInit = Callable[[], Awaitable[LiveInit | LiveUnavailable]]
FollowFragments = Callable[[int, int], AsyncGenerator[list[Fragment] | None, None]]


@dataclass(frozen=True)
class MseSource:
    """How a poller reaches its camera: the init call and the fragments stream.

    ``follow(epoch, after_seq)`` yields batches of fragments as they come (empty ones while
    the camera is quiet) for a while, and None, last, when the epoch has ended; closing it
    early ends the camera's call. ``after_seq`` -1 asks for the fragments from the newest
    keyframe on.
    """

    init: FetchInit
    follow: FollowFragments


class LiveNotReady(Exception):
    """The camera has no live MP4 stream now; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FragmentPoller(Poller):
    """One camera's init segment and recent fragments, while anyone watches."""

    def __init__(self, name: str, source: MseSource, ring: int = RING_FRAGMENTS) -> None:
        super().__init__(name, linger_s=LINGER_S)
        self.source = source
        self.init: LiveInit | None = None
        self.unavailable: str | None = None
        self.ring: deque[Fragment] = deque(maxlen=ring)

    @property
    def epoch(self) -> int | None:
        return self.init.epoch if self.init is not None else None

    @property
    def newest(self) -> int:
        return self.ring[-1].seq if self.ring else -1

    def moved_on(self, epoch: int, seq: int) -> bool:
        """Whether `epoch` ended or a fragment above `seq` came."""
        return self.epoch != epoch or self.newest > seq

    def after(self, seq: int) -> list[Fragment]:
        """Fragments numbered above `seq`, oldest first."""
        return [f for f in self.ring if f.seq > seq]

    def from_newest_keyframe(self) -> list[Fragment]:
        """The newest keyframe fragment and those after it (empty before the first)."""
        keys = [i for i, f in enumerate(self.ring) if f.keyframe]
        return list(self.ring)[keys[-1]:] if keys else []

    async def poll(self) -> None:
        init = self.init
        if init is None:
            got = await self.source.init()
            if isinstance(got, LiveUnavailable):
                self.unavailable = got.reason
                await self.publish()
                await asyncio.sleep(UNAVAILABLE_RETRY_S)
                return
            self.init, self.unavailable = got, None
            self.ring.clear()
            await self.publish()
            return
        stream = self.source.follow(init.epoch, self.newest)
        try:
            async for batch in stream:
                if batch is None:  # that epoch ended: viewers of it end, the next poll starts anew
                    self.init = None
                    self.ring.clear()
                    await self.publish()
                    return
                if batch:
                    self.ring.extend(f for f in batch if f.seq > self.newest)
                    await self.publish()
        finally:
            await stream.aclose()

    def stopped(self) -> None:
        self.init, self.unavailable = None, None
        self.ring.clear()


class MseHub:
    """The ingress's fragment pollers, one per camera, created on first viewer."""

    def __init__(self) -> None:
        self._pollers: dict[int, FragmentPoller] = {}
        self.skipped = 0  # fragments viewers skipped to catch up (all viewers, all cameras)

    def poller(self, camera_id: int, source: MseSource) -> FragmentPoller:
        poller = self._pollers.get(camera_id)
        if poller is None:
            poller = self._pollers[camera_id] = FragmentPoller(f"mse-{camera_id}", source)
        return poller

    async def ready(self, camera_id: int, source: MseSource, wait_s: float) -> LiveInit:
        """The camera's init segment once its poller has it (starting the poller).

        Raises:
            LiveNotReady: no stream within `wait_s` (offline, no keyframe yet, codec).
        """
        poller = self.poller(camera_id, source)
        poller.join()
        try:
            await poller.wait_until(lambda: poller.init is not None
                                    or poller.unavailable is not None, wait_s)
            if poller.init is None:
                raise LiveNotReady(poller.unavailable or "the camera's live stream did not start "
                                   "in time")
            return poller.init
        finally:
            poller.leave()

    async def stream(self, camera_id: int, source: MseSource) -> AsyncIterator[bytes]:
        """One viewer: the init segment and fragments from the newest keyframe, then live.

        Ends at once when the camera has no stream after all (it stopped since the route
        looked): the player reconnects and gets the route's answer.
        """
        poller = self.poller(camera_id, source)
        poller.join()
        try:
            try:
                init = await self.ready(camera_id, source, READY_WAIT_S)
            except LiveNotReady:
                return
            first = poller.from_newest_keyframe()
            yield init.data + b"".join(f.data for f in first)
            async for chunk in self._follow(poller, init.epoch, first[-1].seq if first else None):
                yield chunk
        finally:
            poller.leave()

    async def _follow(self, poller: FragmentPoller, epoch: int,
                      cursor: int | None) -> AsyncIterator[bytes]:
        """Fragments after `cursor` (None: from the next keyframe) while `epoch` lasts."""
        need_key = cursor is None
        seen = poller.newest if cursor is None else cursor
        while True:
            await poller.wait_until(partial(poller.moved_on, epoch, seen), None)
            if poller.epoch != epoch:
                return  # the camera's stream reopened or stopped
            pending = poller.after(seen)
            if not pending:
                continue
            if need_key or pending[0].seq != seen + 1 or len(pending) > MAX_BACKLOG:
                # Behind (or starting): whatever precedes the newest keyframe is dropped.
                keys = [i for i, f in enumerate(pending) if f.keyframe]
                skip = keys[-1] if keys else len(pending)
                self.skipped += skip
                if skip:
                    seen = pending[skip - 1].seq
                need_key = not keys
                pending = pending[skip:]
                if not pending:
                    continue
            seen = pending[-1].seq
            yield b"".join(f.data for f in pending)
