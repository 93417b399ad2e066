"""Which onnxruntime execution providers a model session asks for (detector, faces, re-ID)."""

from __future__ import annotations

from collections.abc import Sequence

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
DEFAULT_PREFERENCE = ("CUDAExecutionProvider", "CPUExecutionProvider")
"""TensorRT is opt-in (pass ``preferred``): its first engine build takes minutes."""


def choose_providers(available: Sequence[str], preferred: Sequence[str] | None = None) -> list[str]:
    """Pick execution providers: the preferred ones onnxruntime has, CPU always last.

    Args:
        available: ``onnxruntime.get_available_providers()``.
        preferred: providers in order of preference; defaults to CUDA then CPU.
    """
    wanted = [p for p in (preferred or DEFAULT_PREFERENCE) if p in available]
    if "CPUExecutionProvider" not in wanted:
        wanted.append("CPUExecutionProvider")
    return wanted
