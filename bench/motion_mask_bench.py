"""Motion gate CPU with motion masks against the same gate without, on the same decoded clip.

The clip is real H.264 (libx264, decoded back with PyAV, so encoder noise is in it): 720p, a
textured street whose top third is "trees" swaying every frame, and a person-sized block
walking across the bottom during the middle third. The masked gate carries a mask over the
trees plus three more polygons (a 64-point one among them), rasterised once at the gate's
size; each update then costs one extra AND over the 160 x 90 changed-pixel image. Both
gates see every frame in the same order, interleaved in rounds so that load on the box falls
on both alike; CPU is this process's own (user + system) time. The table also counts the
frames each gate calls motion: without the mask the trees keep it awake, with it only the
walker does.

    .venv/bin/python -m bench.motion_mask_bench [--seconds 10] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import io
import math
import time

import av
import cv2
import numpy as np

from bench.common import table, write_report
from iris.actors.motion import MotionGate
from iris.zones import Polygon, check_polygon

W, H, FPS = 1280, 720, 10
TREES: Polygon = ((0.0, 0.0), (1.0, 0.0), (1.0, 0.36), (0.0, 0.36))


def masks() -> tuple[Polygon, ...]:
    circle = [[0.85 + 0.08 * math.cos(a), 0.55 + 0.08 * math.sin(a)]
              for a in np.linspace(0, 2 * math.pi, 64, endpoint=False)]
    return (TREES, check_polygon([[0, 0.4], [0.1, 0.4], [0.05, 0.6]]),
            check_polygon([[0.3, 0.4], [0.4, 0.4], [0.4, 0.5], [0.3, 0.5]]),
            check_polygon(circle))


def scene(frames: int) -> list[np.ndarray]:
    """Encode the scene with libx264 and decode it again: what a camera's gate gets."""
    rng = np.random.default_rng(7)
    street = cv2.resize(rng.integers(0, 256, (18, 32, 3), dtype=np.uint8), (W, H),
                        interpolation=cv2.INTER_CUBIC)
    leaves = cv2.resize(rng.integers(0, 256, (12, 64, 3), dtype=np.uint8), (W + 80, 260),
                        interpolation=cv2.INTER_CUBIC)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "28", "preset": "veryfast"}
        for i in range(frames):
            image = street.copy()
            sway = int(40 + 30 * math.sin(i * 1.3))  # wind: the canopy shifts every frame
            image[:260] = leaves[:, sway:sway + W]
            if frames // 3 <= i < 2 * frames // 3:  # the walker crosses in the middle third
                x = 100 + 3 * (i - frames // 3) * 1000 // frames
                cv2.rectangle(image, (x, 480), (x + 60, 660), (40, 50, 60), -1)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf) as source:
        return [f.to_ndarray(format="bgr24") for f in source.decode(video=0)]


def run_gate(gate: MotionGate, frames: list[np.ndarray]) -> tuple[float, int]:
    """CPU seconds to feed every frame, and how many frames the gate called moving."""
    gate.reset()
    moving = 0
    started = time.process_time()
    for i, frame in enumerate(frames):
        gate.update(frame, i / FPS)
        moving += gate.moving
    return time.process_time() - started, moving


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 s clip, 2 rounds")
    args = parser.parse_args(argv)
    seconds, rounds = (3.0, 2) if args.quick else (args.seconds, args.rounds)
    frames = scene(int(seconds * FPS))
    variants = {"no mask (baseline)": MotionGate(), "4 masks (trees + 3)": MotionGate(
        masks=masks())}
    cpu = {name: 0.0 for name in variants}
    moving = {name: 0 for name in variants}
    for _ in range(rounds):
        for name, gate in variants.items():
            spent, moved = run_gate(gate, frames)
            cpu[name] += spent
            moving[name] = moved
    per_frame = {name: cpu[name] / (rounds * len(frames)) for name in variants}
    base = per_frame["no mask (baseline)"]
    rows = [(name, f"{per_frame[name] * 1e6:.0f}", f"{per_frame[name] / base:.2f}",
             f"{moving[name]} / {len(frames)}") for name in variants]
    text = "\n\n".join([
        f"## Motion gate with masks ({len(frames)} decoded 720p frames x {rounds} rounds)",
        table(["gate", "CPU per frame, µs", "ratio to no mask", "frames called motion"], rows),
    ])
    print(text)
    write_report("motion_mask", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
