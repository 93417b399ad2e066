"""One poller per camera, fanned out to every viewer of it (no Ray here).

A live stream's bytes come from the camera actor through one long-poll loop per camera and
kind (MJPEG frames, MP4 fragments, overlay boxes) however many viewers watch, and stop as soon
as the last viewer leaves, so an unwatched camera does no live work at all. `Poller` is that
loop's life cycle: viewers `join` and `leave`; subclasses implement `poll` (one long-poll round
trip) and call `publish` when they have something new; viewers wait with `wait_newer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("iris.live")

RETRY_S = 0.5
"""Pause after a failed poll (a camera restarting) before the next."""


class Poller:
    """Runs `poll` in a loop while anyone watches; `version` counts publications."""

    def __init__(self, name: str, linger_s: float = 0.0) -> None:
        self.name = name
        self.linger_s = linger_s
        self._viewers = 0
        self._task: asyncio.Task[None] | None = None
        self._linger: asyncio.TimerHandle | None = None
        self.version = 0
        self.changed = asyncio.Condition()
        self.polls = 0

    @property
    def viewers(self) -> int:
        return self._viewers

    def join(self) -> None:
        """A viewer arrives: start polling if nobody watched."""
        self._viewers += 1
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def leave(self) -> None:
        """A viewer left: the last one stops the polling (after `linger_s`)."""
        self._viewers = max(0, self._viewers - 1)
        if self._viewers:
            return
        if self.linger_s > 0:
            if self._linger is None:
                self._linger = asyncio.get_running_loop().call_later(self.linger_s, self._stop)
            return
        self._stop()

    def _stop(self) -> None:
        self._linger = None
        if self._viewers or self._task is None:
            return
        self._task.cancel()
        self._task = None
        self.stopped()

    async def poll(self) -> None:
        """One round trip to the camera (long-polls); calls `publish` with news."""
        raise NotImplementedError

    def stopped(self) -> None:
        """The last viewer left (subclasses drop what they held)."""

    async def publish(self) -> None:
        """Wake every viewer: something changed."""
        self.version += 1
        async with self.changed:
            self.changed.notify_all()

    async def wait_newer(self, version: int, timeout: float | None = None) -> bool:
        """Wait until `version` is out of date; False when `timeout` passed first."""
        return await self.wait_until(lambda: self.version != version, timeout)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until `predicate()` holds (checked at each publication) or `timeout` passes."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(predicate), timeout)
            except TimeoutError:
                return False
        return True

    async def _run(self) -> None:
        while self._viewers or self._linger is not None:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - camera restarting: retry shortly
                log.debug("%s: poll failed: %s", self.name, exc)
                await asyncio.sleep(RETRY_S)
            self.polls += 1
