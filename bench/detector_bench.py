"""Detector benchmarks, each figure beside its baseline measured in the same run.

1. Serve batching: frames/s through the Detector deployment with 8 concurrent callers at
   max_batch_size 1 vs 8, against a raw onnxruntime loop on the same frames. The raw loop is
   the benchmarks' own (`bench.raw_detector`), independent of Iris's backend.
2. Backends: `onnx` vs `ultralytics` on the same frames (same ONNX file, direct calls).
3. Motion gate: CPU seconds per camera-second of a static scene with the gate on vs off.

    .venv/bin/python -m bench.detector_bench [--frames 160] [--seconds 15] [--quick]

The model is the real yolo11n architecture with random weights (`YOLO("yolo11n.yaml")`
exported to ONNX offline): it costs what the trained model costs.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.raw_detector import RawDetector

IMGSZ = 320


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (IMGSZ, IMGSZ, 3), dtype=np.uint8) for _ in range(count)]


def raw_loop(model: Path, batch: list[np.ndarray], conf: float = 0.25,
             iou: float = 0.45) -> float:
    """Baseline: one process, a plain onnxruntime session (`bench.raw_detector`), batch 1."""
    raw = RawDetector(model)
    for frame in batch[:2]:
        raw.detect(frame, conf, iou)  # warm-up
    started = time.perf_counter()
    for frame in batch:
        raw.detect(frame, conf, iou)
    return len(batch) / (time.perf_counter() - started)


def backends(model: Path, batch: list[np.ndarray]) -> dict[str, float]:
    from iris.models.detectors import load_backend

    rates = {}
    for kind in ("onnx", "ultralytics"):
        backend = load_backend(kind, model, IMGSZ)
        backend.detect(batch[:2])
        started = time.perf_counter()
        for frame in batch:
            backend.detect([frame], conf=0.25, iou=0.45)
        rates[kind] = len(batch) / (time.perf_counter() - started)
    return rates


def serve_batching(model: Path, batch: list[np.ndarray], callers: int = 8) -> dict[int, float]:
    import ray
    from ray import serve

    from iris.serve.detector import Detector
    from iris.serve.models import MODEL_LOGGING

    for attempt in range(3):  # Ray gives its raylet 30 s to register: a loaded box misses it
        try:
            ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False)
            break
        except Exception as exc:  # noqa: BLE001 - retried, then raised
            print(f"  ray.init failed ({exc}); attempt {attempt + 1} of 3", flush=True)
            ray.shutdown()
    else:
        raise RuntimeError("Ray did not start in 3 attempts")
    serve.start(http_options={"port": 18999})
    rates = {}
    try:
        for max_batch in (1, 8):
            app = Detector.options(  # type: ignore[attr-defined]
                max_ongoing_requests=64,
                user_config={"max_batch_size": max_batch, "batch_wait_timeout_s": 0.01},
                logging_config=MODEL_LOGGING,  # as Iris deploys it: no access log per call
            ).bind("onnx", str(model))
            handle = serve.run(app, name=f"bench-{max_batch}", route_prefix=None)
            handle.detect.remote(batch[0], 0.25, 0.45).result()
            per_caller = len(batch) // callers

            def call(offset: int, handle=handle, per_caller=per_caller) -> None:
                for frame in batch[offset * per_caller:(offset + 1) * per_caller]:
                    handle.detect.remote(frame, 0.25, 0.45).result()

            started = time.perf_counter()
            with ThreadPoolExecutor(callers) as pool:
                list(pool.map(call, range(callers)))
            rates[max_batch] = per_caller * callers / (time.perf_counter() - started)
            info = handle.info.remote().result()
            print(f"  max_batch {max_batch}: batch sizes seen {info['batch_sizes']}")
            serve.delete(f"bench-{max_batch}")
    finally:
        serve.shutdown()
        ray.shutdown()
    return rates


class LocalDetector:
    """DetectorClient running the onnx backend in this process (for the motion-gate figure)."""

    def __init__(self, model: Path) -> None:
        from iris.models.detectors import load_backend

        self.backend = load_backend("onnx", model, IMGSZ)
        self.lock = threading.Lock()

    def info(self) -> dict:
        return {"available": True, "names": self.backend.names}

    def detect(self, frame: np.ndarray, conf: float, iou: float):
        with self.lock:
            return self.backend.detect([frame], conf, iou)[0]


def motion_gate(model: Path, folder: Path, seconds: float) -> dict[str, float]:
    """CPU s per camera-second for a static 720p25 scene, detection at 5 fps, gate on/off."""
    from iris.actors.config import CameraConfig
    from iris.actors.worker import CameraWorker
    from iris.db.engine import make_engine
    from iris.sources import SourcePolicy
    from tests.support.media import make_clip

    clip = make_clip(folder / "static.mp4", seconds=10, fps=25, size=(1280, 720),
                     audio=False, moving=False)
    detector = LocalDetector(model)
    results = {}
    for gated in (True, False):
        config = CameraConfig(
            camera_id=1, name="bench", source=clip.as_uri(),
            source_policy=SourcePolicy(local_dir=folder), transport="tcp", detect_conf=0.5,
            detect_iou=0.45, detect_imgsz=IMGSZ, detect_interval=0.2,
            trigger_classes=("person",), trigger_cooldown=5, min_trigger_frames=3,
            pre_seconds=2, post_seconds=2, faces_enabled=False, reid_enabled=False,
            data_root=folder / ("gated" if gated else "ungated"),
            database_url=f"sqlite:///{folder}/bench-{gated}.db", segment_seconds=2,
            segment_retention_seconds=60, live_mjpeg_fps=10, heartbeat_seconds=1,
            serve_app_name="bench", ray_namespace="bench")
        make_engine(config.database_url).dispose()  # what `iris up` does before any camera
        worker = CameraWorker(config, detector)
        worker.detection.gate_enabled = gated
        worker.start()
        time.sleep(2)  # warm-up: first open, first keyframe
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        time.sleep(seconds)  # the measurement window itself
        results["gate on" if gated else "gate off"] = (
            (cpu_seconds() - cpu0) / (time.monotonic() - wall0))
        print(f"  gate {'on' if gated else 'off'}: {worker.detection.detections} detections, "
              f"{worker.detection.skipped_static} skipped as static")
        worker.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=160)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--out", type=Path, default=Path("bench/out/detector.md"))
    parser.add_argument("--quick", action="store_true", help="48 frames, 6 s per gate run")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.seconds = 48, 6.0

    from iris.models.standins import build_benchmark_detector

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = build_benchmark_detector(folder / "yolo11n-random.onnx", imgsz=IMGSZ)
        batch = frames(args.frames)
        raw = raw_loop(model, batch)
        served = serve_batching(model, batch)
        direct = backends(model, batch)
        gate = motion_gate(model, folder, args.seconds)

    rows = [
        ("raw onnxruntime loop written in the bench, batch 1 (baseline)",
         f"{raw:.1f} frames/s", "1.00"),
        ("Detector deployment, 8 callers, max_batch 1", f"{served[1]:.1f} frames/s",
         f"{served[1] / raw:.2f}"),
        ("Detector deployment, 8 callers, max_batch 8", f"{served[8]:.1f} frames/s",
         f"{served[8] / raw:.2f}"),
        ("batching gain (max_batch 8 / max_batch 1)", "", f"{served[8] / served[1]:.2f}"),
        ("Iris onnx backend, direct", f"{direct['onnx']:.1f} frames/s",
         f"{direct['onnx'] / raw:.2f}"),
        ("Iris onnx backend, direct (baseline of the next row)",
         f"{direct['onnx']:.1f} frames/s", "1.00"),
        ("ultralytics backend, direct", f"{direct['ultralytics']:.1f} frames/s",
         f"{direct['ultralytics'] / direct['onnx']:.2f}"),
        ("static 720p25 camera, motion gate off (baseline)",
         f"{gate['gate off']:.3f} CPU s/s", "1.00"),
        ("static 720p25 camera, motion gate on", f"{gate['gate on']:.3f} CPU s/s",
         f"{gate['gate on'] / gate['gate off']:.2f}"),
    ]
    table = "| figure | value | ratio |\n|---|---|---|\n" + "\n".join(
        f"| {name} | {value} | {ratio} |" for name, value, ratio in rows)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"## Detector (yolo11n architecture, imgsz {IMGSZ}, CPU)\n\n{table}\n")
    print(json.dumps({"raw": raw, "served": served, "direct": direct, "gate": gate}))


if __name__ == "__main__":
    main()
