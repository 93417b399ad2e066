"""The ingress's MP4 fan-out: one poll per camera for every viewer, bounded, ends with the epoch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import pytest

from iris.live.types import Fragment, LiveInit, LiveUnavailable
from iris.serve import mse
from iris.serve.mse import LiveNotReady, MseHub, MseSource

INIT = b"INIT"


class FakeCamera:
    """A camera's producer: an epoch, its fragments, and counted reads of its stream."""

    def __init__(self) -> None:
        self.epoch = 1
        self.fragments: list[Fragment] = []
        self.unavailable: str | None = None
        self.changed = asyncio.Event()
        self.fragment_calls = 0  # batches the pollers took
        self.follows = 0  # streaming calls opened
        self.open_follows = 0  # ... and not yet ended (a cancelled call ends)

    def source(self) -> MseSource:
        return MseSource(self.init, self.follow)

    async def init(self) -> LiveInit | LiveUnavailable:
        if self.unavailable:
            return LiveUnavailable(self.unavailable)
        return LiveInit(self.epoch, "avc1.42c016", INIT, 320, 180, False)

    async def follow(self, epoch: int,
                     after: int) -> AsyncGenerator[list[Fragment] | None, None]:
        """Like `LiveMp4.follow`: batches as they come, [] after 0.5 s, None at epoch end."""
        self.follows += 1
        self.open_follows += 1
        try:
            for _ in range(4):  # a span of four batches, then the poller opens another call
                self.fragment_calls += 1
                batch = await self._next(epoch, after)
                yield batch
                if batch is None:
                    return
                if batch:
                    after = batch[-1].seq
        finally:
            self.open_follows -= 1

    async def _next(self, epoch: int, after: int) -> list[Fragment] | None:
        deadline = time.monotonic() + 0.5
        while epoch == self.epoch:
            newer = [f for f in self.fragments if f.seq > after]
            if newer:
                return newer
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                return []
        return None

    def add(self, *keys: bool) -> list[Fragment]:
        added = []
        for key in keys:
            seq = len(self.fragments) + len(added) + 1
            added.append(Fragment(seq, key, f"<{seq}{'K' if key else ''}>".encode()))
        self.fragments += added
        self.changed.set()
        return added

    def restart(self) -> None:
        self.epoch += 1
        self.fragments = []
        self.changed.set()


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the loop run until `predicate()` holds (the async side of tests' wait_for)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


class Viewer:
    """Reads a stream in the background; `paused` stops it reading (a slow client)."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self.stream = stream
        self.chunks: list[bytes] = []
        self.ended = False
        self.reading = asyncio.Event()
        self.reading.set()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for chunk in self.stream:
            self.chunks.append(chunk)
            await self.reading.wait()
        self.ended = True

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.stream.aclose()  # type: ignore[attr-defined]


async def opened(hub: MseHub, camera: FakeCamera) -> Viewer:
    await hub.ready(1, camera.source(), 5.0)
    return Viewer(hub.stream(1, camera.source()))


def test_every_viewer_gets_the_same_bytes_from_one_poller() -> None:
    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        viewers = [await opened(hub, camera) for _ in range(3)]
        await until(lambda: all(v.chunks for v in viewers))
        fragments = camera.add(False, True, False, False, True, False)  # joined mid-GOP
        expected = INIT + b"".join(f.data for f in fragments[4:])  # from the newest keyframe
        await until(lambda: all(v.data == expected for v in viewers))
        assert camera.fragment_calls <= 2 * len(fragments)  # one poller, not one per viewer
        for viewer in viewers:
            await viewer.close()

    asyncio.run(main())


def test_a_new_viewer_starts_at_the_newest_keyframe() -> None:
    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        first = await opened(hub, camera)
        fragments = camera.add(True, False, False, True, False)
        await until(lambda: hub.poller(1, camera.source()).newest == 5)
        late = await opened(hub, camera)
        await until(lambda: bool(late.chunks))
        assert late.chunks[0] == INIT + fragments[3].data + fragments[4].data
        await first.close()
        await late.close()

    asyncio.run(main())


def test_a_viewer_that_falls_behind_skips_to_the_newest_keyframe() -> None:
    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        steady, slow = await opened(hub, camera), await opened(hub, camera)
        first = camera.add(True)[0]
        await until(lambda: slow.data == INIT + first.data)
        slow.reading.clear()  # stops reading: it owes every fragment from now on
        for _ in range(8):  # arriving one by one: a reading viewer keeps up with each
            camera.add(False, True)
            await until(lambda: steady.data == INIT + b"".join(f.data for f in camera.fragments))
        got = len(slow.chunks)  # it stopped reading after taking one more chunk at most
        owed = [f for f in camera.fragments if f.seq > 3]
        assert len(owed) > mse.MAX_BACKLOG
        slow.reading.set()
        await until(lambda: len(slow.chunks) > got)
        # Nothing older than the newest keyframe: what it missed is gone, not queued.
        assert slow.chunks[got] == camera.fragments[-1].data and camera.fragments[-1].keyframe
        assert hub.skipped >= len(owed) - 1
        await steady.close()
        await slow.close()

    asyncio.run(main())


def test_streams_end_when_the_camera_stream_reopens() -> None:
    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        viewer = await opened(hub, camera)
        sent = camera.add(True, False)
        await until(lambda: viewer.data == INIT + sent[0].data + sent[1].data)
        camera.restart()
        await until(lambda: viewer.ended)
        again = await opened(hub, camera)  # a reconnecting player gets the new epoch
        camera.add(True)
        await until(lambda: again.data == INIT + camera.fragments[0].data)
        await again.close()

    asyncio.run(main())


def test_the_last_viewer_leaving_stops_the_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mse, "LINGER_S", 0.05)

    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        viewer = await opened(hub, camera)
        sent = camera.add(True)
        await until(lambda: viewer.data == INIT + sent[0].data)
        await viewer.close()
        poller = hub.poller(1, camera.source())
        await until(lambda: poller.viewers == 0 and poller._task is None)
        await until(lambda: camera.open_follows == 0)  # its streaming call was ended
        calls = camera.fragment_calls
        await asyncio.sleep(0.6)  # an observation window: nothing may poll during it
        assert camera.fragment_calls == calls

    asyncio.run(main())


def test_a_camera_without_a_stream_is_refused_with_its_reason() -> None:
    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        camera.unavailable = "the camera sends no video yet"
        with pytest.raises(LiveNotReady, match="no video yet"):
            await hub.ready(1, camera.source(), 2.0)

    asyncio.run(main())


def test_the_poller_follows_one_stream_call_at_a_time_across_spans() -> None:
    async def main() -> None:
        hub, camera = MseHub(), FakeCamera()
        viewer = await opened(hub, camera)
        for _ in range(6):  # more batches than one call's span: the poller opens the next
            data = camera.add(True)[0].data
            await until(lambda data=data: viewer.data.endswith(data))
        assert viewer.data == INIT + b"".join(f.data for f in camera.fragments)
        assert camera.follows >= 2 and camera.open_follows <= 1
        await viewer.close()

    asyncio.run(main())
