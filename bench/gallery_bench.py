"""Gallery search latency and recall at 10k / 100k / 1M exemplars, and assign throughput.

Exemplars are random L2-normalised 512-d vectors (ArcFace size); each query is a stored
exemplar plus noise (cosine ~0.8 to it), like a new sighting of a known face. Recall@1 is
measured against exact search. The baseline is a bare ``faiss.IndexFlatIP`` in the same run;
``ratio`` is p50 latency / baseline p50 (below 1 is faster). FAISS runs one OpenMP thread.

    .venv/bin/python -m bench.gallery_bench [--full] [--sizes 10000,100000] [--queries 200]
        [--kinds flat,ivf,hnsw] [--hnsw-max 10000] [--assign 1000]

The quick profile (default, a few minutes) measures 10k and 100k exemplars with HNSW at 10k
only; ``--full`` adds 1M and HNSW at 100k (≈15 min here: HNSW builds at 1-2k vectors/s).

Writes ``bench/out/gallery.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from iris.models.gallery import Gallery, configure_faiss

DIM = 512
OUT = Path(__file__).parent / "out" / "gallery.md"
PROFILES: dict[str, tuple[str, int]] = {
    "quick": ("10000,100000", 10_000),
    "full": ("10000,100000,1000000", 100_000),
}
"""Profile -> (sizes, largest HNSW). HNSW builds single-threaded at ~1-2k vectors/s here."""


def exemplars(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):  # float32 throughout: 1M x 512 is 2 GiB already
        block = rng.standard_normal((min(100_000, n - start), DIM), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def queries(base: np.ndarray, count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picked = base[rng.integers(0, len(base), count)]
    noisy = picked + 0.75 / np.sqrt(DIM) * rng.standard_normal(picked.shape, dtype=np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def latencies(search: object, qs: np.ndarray) -> tuple[float, float, np.ndarray]:
    """p50 and p99 ms of one-query searches, and the top-1 ids."""
    times, top = [], []
    for q in qs:
        t = time.perf_counter()
        _, ids = search(q.reshape(1, -1), 1)  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
        top.append(int(ids[0, 0]))
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), np.asarray(top)


def batched(search: object, qs: np.ndarray, batch: int = 64) -> float:
    """ms per query when searching ``batch`` queries at once."""
    part = qs[:batch]
    t = time.perf_counter()
    search(part, 1)  # type: ignore[operator]
    return (time.perf_counter() - t) * 1000 / len(part)


def bench_size(n: int, nq: int, kinds: list[str],
               hnsw_max: int = 100_000) -> list[dict[str, object]]:
    import faiss

    base = exemplars(n)
    ids = np.arange(n, dtype=np.int64) + 1
    qs = queries(base, nq)
    rows: list[dict[str, object]] = []

    raw = faiss.IndexFlatIP(DIM)
    raw.add(base)
    b50, b99, truth = latencies(raw.search, qs)
    truth = truth + 1
    rows.append({"n": n, "kind": "faiss IndexFlatIP (baseline)", "build_s": 0.0, "p50": b50,
                 "p99": b99, "batch": batched(raw.search, qs), "recall": 1.0, "ratio": 1.0})
    del raw
    gc.collect()
    for kind in kinds:
        if kind == "hnsw" and n > hnsw_max:
            continue
        t = time.perf_counter()
        gallery = Gallery(DIM, kind, ivf_min_vectors=min(20_000, n))  # type: ignore[arg-type]
        gallery.rebuild(ids, base)
        build = time.perf_counter() - t
        p50, p99, top = latencies(gallery.search, qs)
        label = {"flat": "Gallery flat", "ivf": "Gallery IVF nprobe 8",
                 "hnsw": "Gallery HNSW M32 ef64"}[kind]
        rows.append({"n": n, "kind": f"{label} ({gallery.active_kind})", "build_s": build,
                     "p50": p50, "p99": p99, "batch": batched(gallery.search, qs),
                     "recall": float((top == truth).mean()), "ratio": p50 / b50})
        if kind == "ivf" and gallery.active_kind == "ivf":
            for nprobe in (32, 64):  # the recall/latency trade on the same trained index
                gallery.set_search(nprobe=nprobe)
                p50, p99, top = latencies(gallery.search, qs)
                rows.append({"n": n, "kind": f"Gallery IVF nprobe {nprobe} (ivf)",
                             "build_s": build, "p50": p50, "p99": p99,
                             "batch": batched(gallery.search, qs),
                             "recall": float((top == truth).mean()), "ratio": p50 / b50})
        if kind == "flat":  # same batch through BLAS (FAISS's default threshold of 20)
            configure_faiss(1, 20)
            rows.append({**rows[-1], "kind": "Gallery flat, batch via BLAS",
                         "batch": batched(gallery.search, qs)})
            configure_faiss(1, 256)
        del gallery
        gc.collect()
    return rows


def observations(count: int, people: int = 100) -> list[Any]:
    """`count` observations of `people` people on 4 cameras; a third show no face."""
    from iris.models.appearance import APPEARANCE_DIM
    from iris.types import Observation

    rng = np.random.default_rng(7)
    faces = exemplars(people, seed=3)
    looks = rng.standard_normal((people, APPEARANCE_DIM)).astype(np.float32)
    crop = bytes(6000)  # a typical body-crop JPEG size
    inputs = []
    for i in range(count):
        who = int(rng.integers(0, people))
        with_face = i % 3 != 0
        face = faces[who] + 0.03 * rng.standard_normal(DIM).astype(np.float32)
        inputs.append(Observation(
            camera_id=1 + i % 4, track_id=i, ts=1_700_000_000.0 + i, end_ts=None,
            face_embedding=face if with_face else None,
            appearance=looks[who] + 0.05 * rng.standard_normal(APPEARANCE_DIM)
            .astype(np.float32),
            quality=float(rng.uniform(0.2, 1.0)), crop_jpeg=crop,
            face_jpeg=crop[:2000] if with_face else None,
        ))
    return inputs


def add_cameras(url: str) -> None:
    from iris.db.engine import make_engine, session_scope
    from iris.db.tables import Camera

    engine = make_engine(url)
    with session_scope(engine) as s:
        s.add_all([Camera(name=f"cam{i}", rtsp_url=f"rtsp://{i}") for i in range(4)])
    engine.dispose()


def bench_assign(count: int) -> dict[str, float]:
    """Sightings per second through IdentityCore.assign in-process, on SQLite (WAL)."""
    from iris.db.engine import make_engine
    from iris.identity import IdentityCore

    inputs = observations(count)
    with tempfile.TemporaryDirectory() as tmp:
        add_cameras(f"sqlite:///{tmp}/iris.db")
        engine = make_engine(f"sqlite:///{tmp}/iris.db")
        core = IdentityCore(engine, Path(tmp) / "data")
        t = time.perf_counter()
        for item in inputs:
            core.assign(item)
        elapsed = time.perf_counter() - t
        stats = core.stats()
        engine.dispose()
    return {"count": count, "seconds": elapsed, "per_s": count / elapsed,
            "identity_faces": stats["identity_faces"]}


def bench_assign_actor(count: int, callers: int = 4) -> dict[str, float]:
    """The same sightings through the IdentityManager actor, as cameras send them: `callers`
    threads (one per camera), each waiting for its answer before sending the next."""
    import ray

    from iris.actors.identity import IdentityManager
    from iris.settings import Settings

    inputs = observations(count)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        add_cameras(settings.resolved_database_url)
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            manager = IdentityManager.remote(settings)  # type: ignore[attr-defined]
            ray.get(manager.stats.remote(), timeout=120)  # galleries built: the actor is up

            def send(part: list[Any]) -> None:
                for item in part:
                    ray.get(manager.assign.remote(item), timeout=60)

            threads = [threading.Thread(target=send, args=(inputs[i::callers],))
                       for i in range(callers)]
            t = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - t
            stats = ray.get(manager.stats.remote(), timeout=60)
        finally:
            ray.shutdown()
    return {"count": count, "seconds": elapsed, "per_s": count / elapsed,
            "identity_faces": stats["identity_faces"], "callers": callers}


def render(rows: list[dict[str, object]], assign: list[dict[str, float]], nq: dict[int, int],
           load: tuple[float, float], hnsw_max: int) -> str:
    lines = [
        "# Gallery benchmark",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible "
        f"(1-min load average {load[0]:.1f} at start, {load[1]:.1f} at end), "
        "FAISS 1 OpenMP thread; 512-d L2-normalised float32; queries are noisy copies of stored "
        "vectors (cosine ~0.8). Latency: one query per call. Batch: 64 queries per call.",
        "",
        "| exemplars | index | build s | p50 ms | p99 ms | batch-64 ms/query | recall@1 | "
        "p50 / baseline |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['kind']} | {r['build_s']:.1f} | {r['p50']:.3f} | "
            f"{r['p99']:.3f} | {r['batch']:.3f} | {r['recall']:.3f} | {r['ratio']:.2f} |"
        )
    lines += ["", "Queries per size: " + ", ".join(f"{n:,}: {q}" for n, q in nq.items())
              + f". HNSW built up to {hnsw_max:,} exemplars.", ""]
    if assign:
        base = assign[0]["per_s"]
        lines += [
            "## Identity assignment on SQLite",
            "",
            "The baseline is `IdentityCore.assign` in-process; the actor row sends the same "
            "sightings to the `IdentityManager` actor from 4 threads (one per camera), each "
            "waiting for its answer, as camera actors do.",
            "",
            "| path | sightings | seconds | sightings/s | / in-process | face exemplars after |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in assign:
            path = f"actor, {row['callers']:.0f} callers" if "callers" in row else "in-process"
            lines.append(
                f"| {path} | {row['count']:,} | {row['seconds']:.2f} | {row['per_s']:.0f} | "
                f"{row['per_s'] / base:.2f} | {row['identity_faces']:,} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add 1M exemplars, HNSW at 100k")
    parser.add_argument("--sizes", help="comma-separated; default by profile")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="flat,ivf,hnsw")
    parser.add_argument("--hnsw-max", type=int, help="largest size HNSW is built for")
    parser.add_argument("--assign", type=int, default=1000, help="sightings; 0 skips")
    args = parser.parse_args()
    profile_sizes, profile_hnsw = PROFILES["full" if args.full else "quick"]
    sizes = args.sizes or profile_sizes
    hnsw_max = args.hnsw_max if args.hnsw_max is not None else profile_hnsw
    configure_faiss(1, 256)
    load_start = os.getloadavg()[0]
    rows: list[dict[str, object]] = []
    used: dict[int, int] = {}
    for n in (int(s) for s in sizes.split(",") if s):
        used[n] = args.queries if n < 1_000_000 else max(64, args.queries // 2)
        started = time.perf_counter()
        rows += bench_size(n, used[n], args.kinds.split(","), hnsw_max)
        print(f"{n:,}: {time.perf_counter() - started:.0f} s", flush=True)
    assign = [bench_assign(args.assign), bench_assign_actor(args.assign)] if args.assign else []
    text = render(rows, assign, used, (load_start, os.getloadavg()[0]), hnsw_max)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
