"""A bounded HTTP load on loopback: N concurrent clients, a mix of Iris reads, their latencies.

Shared by tests/integration/test_load.py (asserts zero errors) and bench/load_bench.py (reports
p50/p99 and req/s). The mix is what a busy UI does: the event list, live snapshots, and `<video>`
seeking in clips (Range requests). Every answer is checked, not just its status: list totals and
page sizes, a JPEG body, and each 206's `Content-Range` and bytes against the clip on disk.

The run stops by itself: no request starts after `warmup_s + duration_s` or once `max_requests`
have been sent, and none waits longer than `timeout_s` (that counts as an error). Only loopback
addresses are accepted as a target.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import col

from iris.db.tables import Event

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
KINDS = ("events list", "snapshot", "clip range")
T0 = datetime(2031, 1, 1, tzinfo=UTC)

Check = Callable[[httpx.Response], str | None]
"""Returns why an answer is wrong, or None when it is right."""


@dataclass(frozen=True)
class Planned:
    """One request of the mix and how to judge its answer."""

    kind: str
    path: str
    check: Check
    params: dict[str, int] | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class LoadTargets:
    """What the mix reads: one camera's events, all pointing at one real clip."""

    camera_id: int
    event_ids: list[int]
    clip: bytes
    kinds: tuple[str, ...] = KINDS

    def plan(self, rng: random.Random) -> Planned:
        """The next request: one of `kinds`, equally likely."""
        kind = rng.choice(self.kinds)
        if kind == "events list":
            return self._list(rng)
        if kind == "snapshot":
            return Planned(kind, f"/api/live/{self.camera_id}/snapshot", _is_jpeg)
        return self._clip_range(rng)

    def _list(self, rng: random.Random) -> Planned:
        total = len(self.event_ids)
        limit = rng.choice((10, 50))
        offset = rng.randrange(total)
        expected = min(limit, total - offset)

        def check(response: httpx.Response) -> str | None:
            if response.status_code != 200:
                return f"status {response.status_code}"
            page = response.json()
            if page["total"] != total:
                return "wrong total"
            if len(page["items"]) != expected:
                return "wrong page size"
            return None

        return Planned("events list", "/api/events", check,
                       params={"camera_id": self.camera_id, "limit": limit, "offset": offset})

    def _clip_range(self, rng: random.Random) -> Planned:
        size = len(self.clip)
        shape = rng.choice(("closed", "open", "suffix"))
        if shape == "closed":
            start = rng.randrange(size)
            end = rng.randrange(start, size)
            header = f"bytes={start}-{end}"
        elif shape == "open":
            start, end = rng.randrange(size), size - 1
            header = f"bytes={start}-"
        else:
            length = rng.randrange(1, size + 1)
            start, end = size - length, size - 1
            header = f"bytes=-{length}"
        want = self.clip[start : end + 1]
        content_range = f"bytes {start}-{end}/{size}"

        def check(response: httpx.Response) -> str | None:
            if response.status_code != 206:
                return f"status {response.status_code}"
            if response.headers.get("content-range") != content_range:
                return f"content-range {response.headers.get('content-range')}"
            if response.content != want:
                return "bytes differ from the clip"
            return None

        event_id = rng.choice(self.event_ids)
        return Planned("clip range", f"/api/events/{event_id}/clip", check,
                       headers={"Range": header})


def _is_jpeg(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"status {response.status_code}"
    if response.headers.get("content-type") != "image/jpeg" or response.content[:2] != b"\xff\xd8":
        return "not a JPEG"
    return None


def seed_events(engine: Engine, root: Path, camera_id: int, clip: Path, count: int
                ) -> LoadTargets:
    """`count` events of `camera_id`, each with `clip` (a file under `root`) as its clip."""
    relative = clip.resolve().relative_to(root.resolve()).as_posix()
    rows = [{"camera_id": camera_id, "kind": "track", "label": "person", "score": 0.9,
             "ts": T0 + timedelta(minutes=i), "end_ts": T0 + timedelta(minutes=i, seconds=8),
             "duration": 8.0, "clip_path": relative, "in_progress": False,
             "created_at": T0 + timedelta(minutes=i)} for i in range(count)]
    with engine.begin() as conn:
        ids = conn.execute(insert(Event).returning(col(Event.id)), rows).scalars().all()
    return LoadTargets(camera_id, sorted(int(i) for i in ids if i is not None),
                       clip.read_bytes())


# ----------------------------------------------------------------------------- the run
@dataclass
class KindStats:
    """Latencies (ms) of the answers that were right, and why the others were wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class LoadResult:
    """One run: per kind of request, and overall over the measured window."""

    clients: int
    seconds: float
    by_kind: dict[str, KindStats]

    @property
    def requests(self) -> int:
        return sum(len(s.latencies_ms) + sum(s.errors.values()) for s in self.by_kind.values())

    @property
    def errors(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for kind, stats in self.by_kind.items():
            total.update({f"{kind}: {why}": n for why, n in stats.errors.items()})
        return total

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def table(self) -> str:
        """A markdown table: requests, errors, p50/p99 ms and req/s per kind and overall."""
        lines = ["| request | requests | errors | p50 ms | p99 ms | req/s |",
                 "|---|---:|---:|---:|---:|---:|"]
        everything = KindStats()
        for kind, stats in self.by_kind.items():
            everything.latencies_ms += stats.latencies_ms
            everything.errors.update(stats.errors)
            lines.append(self._row(kind, stats))
        lines.append(self._row("**all**", everything))
        return "\n".join(lines)

    def _row(self, name: str, stats: KindStats) -> str:
        count = len(stats.latencies_ms) + sum(stats.errors.values())
        return (f"| {name} | {count} | {sum(stats.errors.values())} | "
                f"{stats.percentile(50):.1f} | {stats.percentile(99):.1f} | "
                f"{count / self.seconds:.1f} |")


def check_loopback(base_url: str) -> None:
    """Refuse any target but this machine's loopback."""
    host = urlsplit(base_url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"load is only ever sent to loopback, not to {host!r}")


async def _client(http: httpx.AsyncClient, plan: Callable[[random.Random], Planned],
                  rng: random.Random, budget: list[int], stop_at: float, count_from: float,
                  stats: dict[str, KindStats]) -> None:
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        planned = plan(rng)
        started = time.monotonic()
        try:
            response = await http.get(planned.path, params=planned.params,
                                      headers=planned.headers)
            problem = planned.check(response)
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        except (ValueError, KeyError) as exc:  # a body that is not the JSON it should be
            problem = f"unreadable answer ({type(exc).__name__})"
        done = time.monotonic()
        if started < count_from:
            continue  # warm-up: connections opening, caches filling
        if problem is None:
            stats[planned.kind].latencies_ms.append((done - started) * 1000)
        else:
            stats[planned.kind].errors[problem] += 1


async def run_load_async(base_url: str, headers: dict[str, str],
                         plan: Callable[[random.Random], Planned], *, clients: int,
                         duration_s: float, warmup_s: float = 0.0, max_requests: int = 10**6,
                         seed: int = 1, timeout_s: float = 60.0) -> LoadResult:
    """`clients` concurrent clients, each one request at a time, for `duration_s` seconds.

    Answers to requests started in the first `warmup_s` seconds are not counted.
    """
    check_loopback(base_url)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    stats: dict[str, KindStats] = defaultdict(KindStats)
    budget = [max_requests]
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=timeout_s) as http:
        begin = time.monotonic()
        count_from = begin + warmup_s
        stop_at = count_from + duration_s
        await asyncio.gather(*(
            _client(http, plan, random.Random(seed * 1_000_003 + i), budget, stop_at,
                    count_from, stats)
            for i in range(clients)
        ))
        measured = max(1e-9, min(time.monotonic(), stop_at) - count_from)
    return LoadResult(clients, measured, {kind: stats[kind] for kind in KINDS if kind in stats})


def run_load(base_url: str, headers: dict[str, str], plan: Callable[[random.Random], Planned],
             **kwargs: Any) -> LoadResult:
    """`run_load_async` from synchronous code (its own event loop)."""
    return asyncio.run(run_load_async(base_url, headers, plan, **kwargs))
