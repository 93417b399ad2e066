"""Live viewers for the benchmarks: many HTTP clients in this process, counting frames received.

`MjpegViewers` count multipart parts of `/api/live/{id}/stream`; `MseViewers` count the video
samples in the fragments of `/api/live/{id}/mse`. `measure` opens them, lets them settle, and
meters the CPU of chosen Iris processes over a window; the `Phase` it returns says how many
viewers were served (got a frame in the window) and the lowest frame rate any of them got.
A viewer the server refuses is counted, not fatal.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from bench.common import CpuMeter, CpuWindow
from iris.live.boxes import BoxSplitter, find, track_ids
from iris.serve.live import BOUNDARY
from tests.integration.iris_process import KEY

MARKER = f"--{BOUNDARY}".encode()
SETTLE_S = 75.0
"""How long viewers may take to get going before the window opens anyway."""
INGRESS = ("ServeReplica:iris:Ingress", "ProxyActor")


@dataclass
class Phase:
    """One measured window: what the viewers received and what the processes spent."""

    name: str
    viewers: int
    seconds: float
    cpu: dict[str, CpuWindow]
    frames: list[int]
    megabytes: float
    failures: list[str]

    @property
    def served(self) -> int:
        return sum(1 for n in self.frames if n > 0)

    @property
    def fps_mean(self) -> float:
        """Frames per second per viewer that was served."""
        served = [n for n in self.frames if n > 0]
        return statistics.fmean(served) / self.seconds if served else 0.0

    @property
    def fps_min(self) -> float:
        """The lowest frame rate of any viewer (0 when one got nothing)."""
        return min(self.frames, default=0) / self.seconds

    def cores(self, meter: str) -> float:
        return self.cpu[meter].cores

    def failure_summary(self) -> str:
        kinds = Counter(self.failures)
        return ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common())


class Viewers:
    """``count`` readers spread round-robin over ``camera_ids``, frames counted each."""

    path = ""

    def __init__(self, base_url: str, camera_ids: list[int], count: int,
                 params: dict[str, float] | None = None) -> None:
        self.urls = [f"{base_url}/api/live/{camera_ids[i % len(camera_ids)]}/{self.path}"
                     for i in range(count)]
        self.params = params or {}
        self.frames = [0] * count
        self.bytes = 0
        self.errors: dict[int, str] = {}

    def settled(self) -> bool:
        """Every viewer has a few frames, or has failed."""
        return all(n >= 3 or i in self.errors for i, n in enumerate(self.frames))

    def counter(self, index: int) -> _Counter:
        raise NotImplementedError

    async def _view(self, client: httpx.AsyncClient, index: int) -> None:
        count = self.counter(index)
        try:
            async with client.stream("GET", self.urls[index], params=self.params) as response:
                response.raise_for_status()
                async for chunk in response.aiter_raw():
                    self.bytes += len(chunk)
                    self.frames[index] += count(chunk)
        except asyncio.CancelledError:
            raise
        except httpx.HTTPStatusError as exc:  # reported by the phase, not fatal
            self.errors[index] = f"HTTP {exc.response.status_code}"
        except Exception as exc:  # noqa: BLE001 - reported by the phase, not fatal
            self.errors[index] = type(exc).__name__

    def start(self, client: httpx.AsyncClient) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self._view(client, i)) for i in range(len(self.urls))]


class _Counter:
    def __call__(self, chunk: bytes) -> int:
        raise NotImplementedError


class _Parts(_Counter):
    """Multipart boundaries in a byte stream (one may be split across two chunks)."""

    def __init__(self) -> None:
        self.tail = b""

    def __call__(self, chunk: bytes) -> int:
        data = self.tail + chunk
        self.tail = data[-(len(MARKER) - 1):]
        return data.count(MARKER)


class _Samples(_Counter):
    """Video samples in the fragments of a live MP4 byte stream."""

    def __init__(self) -> None:
        self.splitter = BoxSplitter()
        self.init = b""
        self.video_track: int | None = None

    def __call__(self, chunk: bytes) -> int:
        self.splitter.write(chunk)
        frames = 0
        for kind, data in self.splitter.boxes():
            if kind in (b"ftyp", b"moov"):
                self.init += data
                if kind == b"moov":
                    self.video_track = track_ids(self.init, b"vide")[0]
            elif kind == b"moof" and self.video_track is not None:
                frames += video_samples(data, self.video_track)
        return frames


def video_samples(moof: bytes, track_id: int) -> int:
    """Samples of `track_id` in one ``moof`` (the ``trun`` sample counts of its ``traf``)."""
    total = 0
    for traf in find(moof, [b"moof", b"traf"]):
        tfhd = find(moof, [b"tfhd"], traf)
        if not tfhd or int.from_bytes(moof[tfhd[0].start + 4:tfhd[0].start + 8]) != track_id:
            continue
        for trun in find(moof, [b"trun"], traf):
            total += int.from_bytes(moof[trun.start + 4:trun.start + 8])
    return total


class MjpegViewers(Viewers):
    path = "stream"

    def counter(self, index: int) -> _Counter:
        return _Parts()


class MseViewers(Viewers):
    path = "mse"

    def counter(self, index: int) -> _Counter:
        return _Samples()


async def measure(name: str, viewers: Viewers, *, seconds: float, warmup: float,
                  meters: dict[str, CpuMeter]) -> Phase:
    """Open `viewers`, let them settle, then meter each of `meters` for `seconds`."""
    cpu = meters
    count = len(viewers.urls)
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    # A longer client timeout than any server-side one, so a refused viewer sees the answer.
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, limits=limits,
                                 timeout=httpx.Timeout(SETTLE_S)) as client:
        tasks = viewers.start(client)
        try:
            deadline = time.monotonic() + SETTLE_S
            while not viewers.settled() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(warmup)
            frames0, bytes0 = list(viewers.frames), viewers.bytes
            for meter in cpu.values():
                meter.start()
            await asyncio.sleep(seconds)
            windows = {label: meter.stop() for label, meter in cpu.items()}
            frames = [n - n0 for n, n0 in zip(viewers.frames, frames0, strict=True)]
            received = viewers.bytes - bytes0
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(4)  # the pollers notice their last viewer left and stop
    failures = list(viewers.errors.values())
    failures += ["no frame in time"] * sum(
        1 for i, n in enumerate(frames) if n == 0 and i not in viewers.errors)
    window = next(iter(windows.values()))
    return Phase(name, count, window.seconds, windows, frames, received / 1e6, failures)
