"""GPU memory through NVML, best-effort: no GPU or no driver reads as zeros."""

from __future__ import annotations

from typing import Any


def gpu_memory() -> dict[str, Any]:
    """Used/total MiB summed over visible GPUs, plus one entry per device."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no NVML library or no driver: a CPU host
        return {"used_mb": 0, "total_mb": 0, "devices": []}
    try:
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            devices.append({
                "index": index,
                "name": name.decode() if isinstance(name, bytes) else name,
                "used_mb": int(memory.used // 2**20),
                "total_mb": int(memory.total // 2**20),
            })
        return {
            "used_mb": sum(d["used_mb"] for d in devices),
            "total_mb": sum(d["total_mb"] for d in devices),
            "devices": devices,
        }
    finally:
        pynvml.nvmlShutdown()
