"""How the CLI words the detector's state from `/api/system`'s `backend` (status, doctor)."""

from __future__ import annotations

from typing import Any


def detector_state(backend: dict[str, Any]) -> str:
    """`available`, `standby (…)` before the first camera started the models, or
    `unavailable (why)`."""
    if backend.get("detector_available"):
        return "available"
    reason = str(backend.get("detector_reason") or "unknown")
    if backend.get("detector_standby"):
        return f"standby ({reason.removeprefix('standby: ')})"
    return f"unavailable ({reason})"
