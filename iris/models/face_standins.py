"""Stand-in face models: a SCRFD detector and an ArcFace recogniser as small ONNX files.

Tests build them offline with `build_face_pack` into ``<root>/models/<pack>/`` and load them
through insightface's own `FaceAnalysis`, so the same routing, letterboxing, anchor decoding,
NMS and 5-point alignment run as with the real ``buffalo_l`` pack.

The "face" they know is the marker `draw_face` paints: a filled yellow disc whose inner disc is
cut into eight 45-degree sectors, each yellow or blue. Identity ``k`` colours the sectors after
row ``k`` of an 8x8 Hadamard matrix (times a fixed sign mask so no pattern is plain), so the
eight patterns are mutually orthogonal.

* ``det_10g.onnx`` (SCRFD layout, 9 outputs: scores, box distances and keypoint distances for
  strides 8/16/32, two anchors per cell). Each stride-8 anchor measures the horizontal and
  vertical chords of the marker through itself; for a disc they give the exact centre and
  radius from any interior point, so anchors near the centre report the marker's box (NMS keeps
  one), with five keypoints placed where ArcFace's template expects them. Several markers in
  one image are found independently; a corner test rejects squares of the same colours.
* ``w600k_r50.onnx`` (ArcFace layout, ``(N, 3, 112, 112) -> (N, 512)``). The aligned crop holds
  the disc inscribed in the square; the model averages a yellow-vs-blue score over each sector
  of the inner annulus and projects those eight numbers onto orthonormal 512-d directions. Same
  pattern -> cosine near 1 whatever the position, scale or JPEG noise; different patterns ->
  cosine near 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from iris.layout import pack_dir

if TYPE_CHECKING:
    import torch

RING_BGR = (0, 255, 255)
"""Face disc colour (yellow), also the colour of ``+1`` sectors."""
MARK_BGR = (255, 0, 0)
"""Colour of ``-1`` sectors (blue)."""
NUM_IDENTITIES = 8
INNER_RATIO = 0.7
"""Radius of the patterned inner disc, as a fraction of the face radius."""
DET_TOLERANCE = 56
"""Per-channel distance (0-255) within which a pixel counts as a face colour for the detector."""
CLOSING = 7
"""Kernel of the morphological closing that heals JPEG seams between sectors (pixels)."""
STANDIN_SCORE = 0.9
EDGE_BIAS = 0.6
"""Pixels added to the measured radius (at detector scale) for the blended edge."""
DET_FILE = "det_10g.onnx"
REC_FILE = "w600k_r50.onnx"
EMBEDDING_DIM = 512

ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
"""insightface's ``arcface_dst``: where the 5 landmarks land in a 112x112 aligned crop."""

_SIGN_MASK = np.array([1, 1, 1, -1, 1, -1, -1, -1], np.float32)


def identity_codes() -> np.ndarray:
    """``(8, 8)`` +-1 sector codes of the identities: Hadamard rows times a fixed sign mask."""
    k = np.arange(NUM_IDENTITIES)
    parity = np.array([[bin(int(a) & int(b)).count("1") % 2 for b in k] for a in k])
    return (1 - 2 * parity).astype(np.float32) * _SIGN_MASK


def draw_face(
    img: np.ndarray, center: tuple[int, int], radius: int, identity: int
) -> tuple[int, int, int, int]:
    """Paint a face marker of one identity in place.

    Args:
        img: BGR uint8 frame.
        center: ``(x, y)`` pixel centre of the disc.
        radius: disc radius in pixels (at least 6 so the pattern survives).
        identity: which of the 8 patterns, ``0..7``.

    Returns:
        The marker's box ``(x1, y1, x2, y2)`` (exclusive ends), what the detector reports.

    Raises:
        ValueError: identity outside ``0..7`` or a radius below 6.
    """
    if not 0 <= identity < NUM_IDENTITIES:
        raise ValueError(f"identity must lie in 0..{NUM_IDENTITIES - 1}, got {identity}")
    if radius < 6:
        raise ValueError(f"face marker radius must be at least 6 px, got {radius}")
    cx, cy = int(center[0]), int(center[1])
    cv2.circle(img, (cx, cy), int(radius), RING_BGR, thickness=-1)
    inner = max(1, round(radius * INNER_RATIO))
    for j, sign in enumerate(identity_codes()[identity]):
        colour = RING_BGR if sign > 0 else MARK_BGR
        cv2.ellipse(img, (cx, cy), (inner, inner), 0, 45 * j, 45 * (j + 1), colour, -1)
    return cx - radius, cy - radius, cx + radius + 1, cy + radius + 1


def _sector_weights(size: int = 112) -> np.ndarray:
    """``(8, size*size)`` masks of the sectors within the inner annulus, each summing to 1."""
    c = size // 2
    yy, xx = np.mgrid[:size, :size].astype(np.float32) + 0.5
    rho = np.hypot(xx - c, yy - c) / c
    annulus = (rho > 0.2) & (rho < INNER_RATIO - 0.08)
    weights = np.zeros((NUM_IDENTITIES, size * size), np.float32)
    for j in range(NUM_IDENTITIES):
        canvas = np.zeros((size, size), np.uint8)
        # Same drawing routine as draw_face, so angle conventions match exactly.
        cv2.ellipse(canvas, (c, c), (c, c), 0, 45 * j + 4, 45 * (j + 1) - 4, 1, -1)
        mask = (canvas > 0) & annulus
        weights[j] = mask.ravel() / max(int(mask.sum()), 1)
    return weights


def _colour(colour_bgr: tuple[int, int, int]) -> torch.Tensor:
    import torch

    return torch.tensor(colour_bgr[::-1], dtype=torch.float32).view(1, 3, 1, 1)


def _member(rgb: torch.Tensor, ref_rgb: torch.Tensor, tol: float) -> torch.Tensor:
    """1.0 where every channel of ``rgb`` is within ``tol`` of the reference colour."""
    return ((rgb - ref_rgb).abs().amax(1) < tol).float()


def _scan_max(t: torch.Tensor, fill: float) -> torch.Tensor:
    """Prefix max along the last axis by doubling (no cummax in opset 13)."""
    import torch
    import torch.nn.functional as F

    step = 1
    while step < 4096:
        t = torch.maximum(t, F.pad(t, (step, 0), value=fill)[..., :-step])
        step *= 2
    return t


def _scan_min_reverse(t: torch.Tensor, fill: float) -> torch.Tensor:
    """Suffix min along the last axis by doubling."""
    import torch
    import torch.nn.functional as F

    step = 1
    while step < 4096:
        t = torch.minimum(t, F.pad(t, (0, step), value=fill)[..., step:])
        step *= 2
    return t


def _chords(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end (exclusive) of the run of ``mask`` through each pixel, along the last axis."""
    import torch

    idx = torch.cumsum(torch.ones_like(mask), -1) - 1
    length = idx.amax(-1, keepdim=True) + 1
    last_off = _scan_max(torch.where(mask > 0.5, torch.full_like(idx, -1.0), idx), -1.0)
    first_off = _scan_min_reverse(torch.where(mask > 0.5, torch.full_like(idx, 1e6), idx), 1e6)
    return last_off + 1, torch.minimum(first_off, length)


def _detector_module() -> torch.nn.Module:
    import torch
    import torch.nn.functional as F

    template = torch.from_numpy(ARCFACE_TEMPLATE / 112.0)  # (5, 2) in box units

    class FaceMarkerSCRFD(torch.nn.Module):
        """SCRFD-normalised image (1, 3, H, W) -> 9 SCRFD outputs (strides 8/16/32, 2 anchors)."""

        template: torch.Tensor
        ring: torch.Tensor
        mark: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("template", template)
            self.register_buffer("ring", _colour(RING_BGR))
            self.register_buffer("mark", _colour(MARK_BGR))

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
            rgb = x * 128.0 + 127.5
            mask = torch.maximum(
                _member(rgb, self.ring, DET_TOLERANCE), _member(rgb, self.mark, DET_TOLERANCE)
            ).unsqueeze(1)
            pad = CLOSING // 2
            mask = F.max_pool2d(mask, CLOSING, 1, pad)
            mask = -F.max_pool2d(-mask, CLOSING, 1, pad)
            m = mask[:, 0]  # (1, H, W)
            ones = torch.ones_like(m)
            height_f, width_f = ones[:, :, 0].sum(1), ones[:, 0, :].sum(1)  # shape-agnostic
            a, b = _chords(m[:, ::8, :])  # horizontal chords on anchor rows
            c, d = _chords(m[:, :, ::8].transpose(1, 2))  # vertical chords on anchor columns
            a, b = a[:, :, ::8], b[:, :, ::8]  # (1, Hs, Ws)
            c, d = c[:, :, ::8].transpose(1, 2), d[:, :, ::8].transpose(1, 2)
            on = m[:, ::8, ::8]
            xs = (torch.cumsum(torch.ones_like(on), 2) - 1) * 8
            ys = (torch.cumsum(torch.ones_like(on), 1) - 1) * 8
            cx, h = (a + b) / 2, (b - a) / 2
            cy, v = (c + d) / 2, (d - c) / 2
            rh = torch.sqrt(h**2 + (ys + 0.5 - cy) ** 2)
            rv = torch.sqrt(v**2 + (xs + 0.5 - cx) ** 2)
            r = (rh + rv) / 2
            # Only anchors near the centre they measure vote: there a disc's chords are near
            # diameters, while a square's corner regions would overstate its radius.
            near = torch.clamp(0.35 * r, min=4.5)
            off_x, off_y = (xs + 0.5 - cx).abs(), (ys + 0.5 - cy).abs()
            valid = (
                (on > 0.5)
                & (off_x <= near)
                & (off_y <= near)
                & ((rh - rv).abs() <= 0.15 * r + 1.5)
                & (r >= 3)
            )
            flat = m.reshape(1, -1)
            last = height_f * width_f - 1
            diag = torch.maximum(0.78 * r, (r + 3) / 1.4142)  # >= 1.1 r from the centre
            for sx, sy in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                # A disc leaves the corners of its box empty; a square fills them.
                px = torch.floor(cx + sx * diag)
                py = torch.floor(cy + sy * diag)
                inside = (px >= 0) & (py >= 0) & (px < width_f) & (py < height_f)
                pos = torch.minimum(py.clamp(min=0) * width_f + px.clamp(min=0), last)
                hit = torch.gather(flat, 1, pos.reshape(1, -1).long()).reshape(r.shape)
                valid = valid & ~(inside & (hit > 0.5))
            central = 1 - ((off_x + off_y) / (2 * near)).clamp(0, 1)
            score = valid.float() * (STANDIN_SCORE - 0.3 + 0.3 * central)
            # Edge pixels blended with the background (resize, JPEG) fall out of the mask, so
            # the measured chords end about half a pixel inside the drawn edge.
            r = r + EDGE_BIAS
            x1, y1, x2, y2 = cx - r, cy - r, cx + r, cy + r
            dist = torch.stack([xs - x1, ys - y1, x2 - xs, y2 - ys], -1) / 8  # (1, Hs, Ws, 4)
            side = (2 * r).unsqueeze(-1)
            kx = x1.unsqueeze(-1) + self.template[:, 0] * side  # (1, Hs, Ws, 5)
            ky = y1.unsqueeze(-1) + self.template[:, 1] * side
            kps = torch.stack([kx - xs.unsqueeze(-1), ky - ys.unsqueeze(-1)], -1) / 8
            dist, kps = dist.reshape(-1, 4), kps.reshape(-1, 10)
            outs8 = (  # two anchors per cell; the second never fires
                torch.stack([score, torch.zeros_like(score)], -1).reshape(-1, 1),
                torch.stack([dist, dist], 1).reshape(-1, 4),
                torch.stack([kps, kps], 1).reshape(-1, 10),
            )
            # Strides 16 and 32 exist for the layout; every marker is found at stride 8.
            empty16 = torch.zeros_like(m[:, ::16, ::16]).reshape(-1, 1).repeat(2, 1)
            empty32 = torch.zeros_like(m[:, ::32, ::32]).reshape(-1, 1).repeat(2, 1)
            return (
                outs8[0], empty16, empty32,
                outs8[1], empty16.repeat(1, 4), empty32.repeat(1, 4),
                outs8[2], empty16.repeat(1, 10), empty32.repeat(1, 10),
            )

    return FaceMarkerSCRFD().eval()


def _recognizer_module(seed: int = 0) -> torch.nn.Module:
    import torch

    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((EMBEDDING_DIM, NUM_IDENTITIES)))
    fallback = rng.standard_normal((48, EMBEDDING_DIM)) / np.sqrt(EMBEDDING_DIM)

    class FaceMarkerArcFace(torch.nn.Module):
        """ArcFace-normalised crops (N, 3, 112, 112) -> (N, 512) embeddings (not normalised)."""

        sectors: torch.Tensor
        basis: torch.Tensor
        fallback: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("sectors", torch.from_numpy(_sector_weights()).t().contiguous())
            self.register_buffer("basis", torch.from_numpy(basis.T.astype(np.float32)))
            self.register_buffer("fallback", torch.from_numpy(fallback.astype(np.float32)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            rgb = x * 127.5 + 127.5
            # Yellow vs blue along one continuous axis: JPEG smears colours but keeps the sign.
            sign = ((rgb[:, 0] + rgb[:, 1] - 2 * rgb[:, 2]) / 255.0).clamp(-1, 1)
            code = sign.flatten(1) @ self.sectors  # (N, 8) in [-1, 1]
            # A tiny content term keeps non-marker faces from a zero (unnormalisable) vector.
            pooled = torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)
            return code @ self.basis + 0.01 * pooled @ self.fallback

    return FaceMarkerArcFace().eval()


def build_face_pack(root: Path, pack: str = "buffalo_l") -> Path:
    """Export the stand-in SCRFD and ArcFace models into ``<root>/models/<pack>/``.

    The folder has the layout `insightface.app.FaceAnalysis(name=pack, root=root)` loads;
    file names follow the real ``buffalo_l`` pack.

    Returns:
        The pack folder.
    """
    import torch

    folder = pack_dir(root, pack)
    folder.mkdir(parents=True, exist_ok=True)
    out_names = [f"{kind}_{s}" for kind in ("score", "bbox", "kps") for s in (8, 16, 32)]
    torch.onnx.export(
        _detector_module(),
        (torch.zeros(1, 3, 640, 640),),
        str(folder / DET_FILE),
        input_names=["input.1"],
        output_names=out_names,
        dynamic_axes={"input.1": {2: "height", 3: "width"}, **{n: {0: n} for n in out_names}},
        opset_version=13,
        dynamo=False,
    )
    torch.onnx.export(
        _recognizer_module(),
        (torch.zeros(1, 3, 112, 112),),
        str(folder / REC_FILE),
        input_names=["input.1"],
        output_names=["embedding"],
        dynamic_axes={"input.1": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=13,
        dynamo=False,
    )
    return folder
