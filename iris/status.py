"""Camera status derivation from the live heartbeat with the staleness fallback (no Ray)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from iris.messages import CameraState


@dataclass(frozen=True)
class DerivedStatus:
    status: str
    last_seen: datetime | None
    fps: float
    detector: str | None
    reason: str | None


def derive_status(
    *,
    enabled: bool,
    heartbeat: CameraState | None,
    persisted_status: str,
    persisted_last_seen: datetime | None,
    stale_seconds: float,
    now: float,
) -> DerivedStatus:
    """disabled ⇒ offline; worker error ⇒ error; heartbeat older than stale_seconds ⇒ offline."""
    if not enabled:
        return DerivedStatus("offline", persisted_last_seen, 0.0, None, "disabled")
    if heartbeat is None:
        fresh = (
            persisted_last_seen is not None
            and now - persisted_last_seen.timestamp() <= stale_seconds
        )
        status = persisted_status if fresh else "offline"
        return DerivedStatus(status, persisted_last_seen, 0.0, None, None)

    last_seen = datetime.fromtimestamp(heartbeat.last_seen, UTC)
    status = heartbeat.status
    if status != "error" and now - heartbeat.last_seen > stale_seconds:
        status = "offline"
    return DerivedStatus(
        status=status,
        last_seen=last_seen,
        fps=float(heartbeat.fps),
        detector=heartbeat.detector,
        reason=heartbeat.reason,
    )
