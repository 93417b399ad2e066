"""The recording store's state for /api/system and the metrics (no Ray): disk, floor, cap and
each camera's storage and coverage, the per-camera sums cached for a few seconds."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from iris.recording.queries import CameraRecordingStats, StatsCache
from iris.recording.retention import RetentionPolicy
from iris.recording.storage import disk_space
from iris.serve.schemas.recordings import CameraStorage, RecordingStatus
from iris.settings import Settings

_cache = StatsCache()


def camera_recording_stats(engine: Engine, settings: Settings) -> dict[int, CameraRecordingStats]:
    """Each camera's recording stats (cached; a camera is "not recording" once its footage
    is older than two segments and a margin)."""
    return _cache.get(engine, stale_after=2 * settings.segment_seconds + 10)


def recording_status(engine: Engine, settings: Settings) -> RecordingStatus:
    """The disk, the floor, the cap and every camera's recordings."""
    stats = camera_recording_stats(engine, settings)
    disk = disk_space(settings.root)
    policy = RetentionPolicy.from_settings(settings)
    return RecordingStatus(
        disk_total_bytes=disk.total, disk_free_bytes=disk.free,
        min_free_bytes=policy.floor_bytes(disk), cap_bytes=policy.cap_bytes,
        recordings_bytes=sum(s.bytes for s in stats.values()),
        cameras=[CameraStorage.of(s) for _, s in sorted(stats.items())])
