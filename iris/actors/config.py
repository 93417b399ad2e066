"""The frozen, resolved configuration a camera actor receives (no Ray import)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from iris.db.tables import Camera
from iris.settings import Settings
from iris.sources import SourcePolicy
from iris.zones import ObjectFilter, Polygon, Zone, check_polygon


@dataclass(frozen=True)
class CameraConfig:
    """Everything one camera's worker needs; a change of any field restarts the worker."""

    camera_id: int
    name: str
    source: str = field(repr=False)  # the camera URL as stored; vetted by ingest at each open
    source_policy: SourcePolicy
    transport: str
    detect_conf: float
    detect_iou: float
    detect_imgsz: int
    detect_interval: float
    trigger_classes: tuple[str, ...]
    trigger_cooldown: float
    min_trigger_frames: int
    pre_seconds: int
    post_seconds: int
    faces_enabled: bool
    reid_enabled: bool
    data_root: Path
    database_url: str = field(repr=False)  # may carry the PostgreSQL password
    segment_seconds: float
    segment_retention_seconds: float
    live_mjpeg_fps: int
    heartbeat_seconds: float
    serve_app_name: str
    ray_namespace: str
    detect_crop: bool = True
    idle_decode: str = "all"
    motion_masks: tuple[Polygon, ...] = ()
    zones: tuple[Zone, ...] = ()
    required_zones: tuple[str, ...] = ()
    object_filters: tuple[tuple[str, ObjectFilter], ...] = ()  # (label, filter), sorted
    stationary_seconds: float = 0.0

    @classmethod
    def resolve(cls, camera: Camera, settings: Settings) -> CameraConfig:
        """Merge a camera row with the global settings once."""
        assert camera.id is not None
        classes = tuple(c for c in camera.trigger_classes.split(",") if c) or ("person",)
        return cls(
            camera_id=camera.id,
            name=camera.name,
            source=camera.rtsp_url,
            source_policy=SourcePolicy.from_settings(settings),
            transport=camera.rtsp_transport,
            detect_conf=camera.detect_conf,
            detect_iou=camera.detect_iou,
            detect_imgsz=camera.detect_imgsz,
            detect_interval=camera.detect_interval,
            trigger_classes=classes,
            trigger_cooldown=camera.trigger_cooldown,
            min_trigger_frames=camera.min_trigger_frames,
            pre_seconds=camera.pre_seconds,
            post_seconds=camera.post_seconds,
            faces_enabled=camera.faces_enabled,
            reid_enabled=camera.reid_enabled,
            data_root=settings.root,
            database_url=settings.resolved_database_url,
            segment_seconds=settings.segment_seconds,
            segment_retention_seconds=settings.segment_retention_seconds,
            live_mjpeg_fps=settings.live_mjpeg_fps,
            heartbeat_seconds=settings.heartbeat_seconds,
            serve_app_name=settings.serve_app_name,
            ray_namespace=settings.ray_namespace,
            detect_crop=settings.detect_crop,
            idle_decode=settings.idle_decode,
            motion_masks=tuple(check_polygon(p) for p in camera.motion_masks or ()),
            zones=tuple(Zone.from_dict(z) for z in camera.zones or ()),
            required_zones=tuple(camera.required_zones or ()),
            object_filters=tuple(sorted(
                (label, ObjectFilter.from_dict(rule))
                for label, rule in (camera.object_filters or {}).items())),
            stationary_seconds=settings.stationary_seconds,
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

