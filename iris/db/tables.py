"""SQLModel tables for every entity of the REST contract, with its FK cascade / SET NULL rules.

Families follow `XBase → XCreate / XUpdate / X(table=True) / XPublic`. Camera-scoped rows that the
spec says have no FK cascade (face samples, presence segments, exemplars) carry a plain
`camera_id` and are purged with their camera (`CAMERA_ROWS`, the camera delete).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, false
from sqlmodel import Field, SQLModel

from iris.db.types import UTCDateTime, utcnow


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


# SQLite would hand a deleted row's id to the next row; ids end up in URLs, so never reuse them.
NO_ID_REUSE = {"sqlite_autoincrement": True}

DEFAULT_CONTINUOUS_DAYS = 7
"""New cameras record 24/7 and keep a week; the free-disk floor keeps a small disk from filling."""


# ----------------------------------------------------------------------------- cameras
class CameraTuning(SQLModel):
    """Per-camera tuning fields with the contract's ranges (shared by create and the table)."""

    detect_conf: float = Field(0.5, ge=0, le=1)
    pre_seconds: int = Field(5, ge=0, le=120)
    post_seconds: int = Field(10, ge=0, le=300)
    trigger_classes: str = Field("person", max_length=1000)
    detect_iou: float = Field(0.45, ge=0, le=1)
    detect_imgsz: int = Field(320, ge=128, le=1920)
    detect_interval: float = Field(0.2, ge=0, le=60)
    trigger_cooldown: float = Field(5.0, ge=0, le=3600)
    min_trigger_frames: int = Field(3, ge=1, le=100)
    rtsp_transport: str = Field("tcp", max_length=3)
    faces_enabled: bool = True
    reid_enabled: bool = True
    retention_days: int = Field(30, ge=0, le=3650)  # 0 keeps events forever
    # 0 = events only. Older databases get the column with the default (server_default).
    continuous_days: int = Field(
        DEFAULT_CONTINUOUS_DAYS, ge=0, le=3650,
        sa_column_kwargs={"server_default": str(DEFAULT_CONTINUOUS_DAYS)})


class Camera(CameraTuning, table=True):
    __tablename__ = "cameras"
    __table_args__ = NO_ID_REUSE

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    rtsp_url: str = Field(max_length=2048)
    enabled: bool = True
    status: str = "offline"
    status_reason: str | None = None
    last_seen: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # Zones, masks and filters (JSON as the API shows them, validated there; NULL in a row of
    # an older database reads as none).
    motion_masks: list[Any] | None = Field(default_factory=list, sa_type=JSON)
    zones: list[Any] | None = Field(default_factory=list, sa_type=JSON)
    required_zones: list[Any] | None = Field(default_factory=list, sa_type=JSON)
    object_filters: dict[str, Any] | None = Field(default_factory=dict, sa_type=JSON)


# ----------------------------------------------------------------------------- people
class Person(SQLModel, table=True):
    __tablename__ = "people"
    __table_args__ = NO_ID_REUSE

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    notes: str | None = Field(default=None, max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class FaceEmbedding(SQLModel, table=True):
    """An enrolled face: 512-d L2-normalised float32, little-endian bytes."""

    __tablename__ = "face_embeddings"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="people.id", ondelete="CASCADE", index=True)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    image_path: str | None = Field(default=None, max_length=1024)
    source: str = "upload"
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# ----------------------------------------------------------------------------- identities
class Identity(SQLModel, table=True):
    __tablename__ = "identities"
    __table_args__ = NO_ID_REUSE

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=5000)
    is_named: bool = Field(default=False, index=True)
    object_class: str = Field(default="person", index=True, max_length=50)
    person_id: int | None = Field(
        default=None, foreign_key="people.id", ondelete="SET NULL", index=True
    )
    color: str | None = None
    color_hex: str | None = None
    make: str | None = None
    vehicle_type: str | None = None
    first_seen: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_seen: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))
    num_sightings: int = 0
    total_seconds: float = 0.0
    rep_sighting_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# ----------------------------------------------------------------------------- events
class Event(SQLModel, table=True):
    """One recording: a presence (track mode), a motion trigger, or a manual recording."""

    __tablename__ = "events"
    # One index per list-filter shape: the page query and its count both stay index-only.
    __table_args__ = (
        Index("ix_events_camera_ts", "camera_id", "ts"),
        Index("ix_events_camera_label_ts", "camera_id", "label", "ts"),
        Index("ix_events_person_ts", "person_id", "ts"),
        Index("ix_events_label_ts", "label", "ts"),
        Index("ix_events_reviewed_camera", "reviewed", "camera_id"),  # unreviewed counts
        # One manual recording per (camera, started_at): a retried record/stop finds it.
        Index("ux_events_camera_manual_start", "camera_id", "manual_started_at", unique=True),
        NO_ID_REUSE,
    )

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(foreign_key="cameras.id", ondelete="CASCADE", index=True)
    kind: str = Field(default="track", max_length=20)  # track | motion | manual
    label: str = Field(default="person", max_length=50)
    score: float | None = None
    ts: datetime = Field(sa_column=_ts(index=True))
    end_ts: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    duration: float | None = None
    clip_path: str | None = Field(default=None, max_length=1024)
    thumb_path: str | None = Field(default=None, max_length=1024)
    in_progress: bool = False
    # The started_at a manual recording was stopped with (NULL for other kinds).
    manual_started_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The footage of the event in the recording store (epoch seconds): first seen - pre …
    # last seen + post. clip_end is NULL while the event lasts; both NULL: no footage (an
    # event recorded before the store keeps its own file in clip_path).
    clip_start: float | None = None
    clip_end: float | None = None
    person_id: int | None = Field(default=None, foreign_key="people.id", ondelete="SET NULL")
    person_name: str | None = None
    identity_id: int | None = Field(
        default=None, foreign_key="identities.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # The zones objects entered during the event, as ",drive,porch," (so `?zone=` is one
    # LIKE); NULL: none. Severity "alert" | "detection"; NULL (older rows): alert.
    zones: str | None = Field(default=None, max_length=4000)
    severity: str | None = Field(default=None, max_length=20)
    reviewed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Sighting(SQLModel, table=True):
    """One track of one identity on one camera."""

    __tablename__ = "sightings"
    __table_args__ = (
        Index("ix_sightings_identity_ts", "identity_id", "ts"),
        Index("ix_sightings_camera_track", "camera_id", "track_id"),
        NO_ID_REUSE,
    )

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identities.id", ondelete="CASCADE")
    camera_id: int = Field(foreign_key="cameras.id", ondelete="CASCADE", index=True)
    event_id: int | None = Field(
        default=None, foreign_key="events.id", ondelete="SET NULL", index=True
    )
    track_id: int | None = None
    label: str = "person"
    match_kind: str = Field(default="new", index=True)  # face | person | appearance | new
    score: float | None = None
    ts: datetime = Field(sa_column=_ts(index=True))
    end_ts: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    thumb_path: str | None = Field(default=None, max_length=1024)
    box: str | None = None  # "x1,y1,x2,y2" in frame pixels


class PresenceSegment(SQLModel, table=True):
    """Dwell of an identity on a camera; camera-scoped without an FK cascade (spec)."""

    __tablename__ = "presence_segments"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identities.id", ondelete="CASCADE", index=True)
    camera_id: int = Field(index=True)
    start: datetime = Field(sa_column=_ts(index=True))
    end: datetime = Field(sa_column=_ts())
    seconds: float = 0.0


class _Exemplar(SQLModel):
    """A kept vector of an identity's (the FAISS gallery is rebuilt from these rows).

    Column types, not `Column` objects: a base's fields are copied into each table, and one
    `Column` cannot belong to two tables.
    """

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identities.id", ondelete="CASCADE", index=True)
    camera_id: int = Field(index=True)
    sighting_id: int | None = None
    vector: bytes = Field(sa_type=LargeBinary, nullable=False)
    quality: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class FaceExemplar(_Exemplar, table=True):
    __tablename__ = "face_exemplars"


class AppearanceExemplar(_Exemplar, table=True):
    __tablename__ = "appearance_exemplars"


class FaceSample(SQLModel, table=True):
    """A captured face crop from a live camera (face groups cluster these)."""

    __tablename__ = "face_samples"

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(index=True)
    identity_id: int | None = Field(
        default=None, foreign_key="identities.id", ondelete="SET NULL", index=True
    )
    sighting_id: int | None = Field(
        default=None, foreign_key="sightings.id", ondelete="SET NULL"
    )
    ts: datetime = Field(sa_column=_ts(index=True))
    crop_path: str | None = Field(default=None, max_length=1024)
    embedding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    clothing: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    quality: float = 0.0
    label: str | None = Field(default=None, index=True, max_length=200)


# ----------------------------------------------------------------------------- recording store
class RecordingSegment(SQLModel, table=True):
    """One finished segment file of the recording store (times are epoch seconds)."""

    __tablename__ = "recording_segments"
    __table_args__ = (
        # Range queries by camera and time; unique, so a file is indexed once, by anyone
        # (the camera's index thread or start-up reconciliation).
        Index("ux_recording_segments_camera_start", "camera_id", "start", unique=True),
        Index("ix_recording_segments_start", "start"),  # retention: oldest first, any camera
        NO_ID_REUSE,
    )

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(foreign_key="cameras.id", ondelete="CASCADE")
    start: float
    end: float
    path: str = Field(max_length=1024)  # relative to the data root
    bytes: int = 0
    has_audio: bool = False
    keyframes: int = 0
    activity: float | None = None  # inter-frame bytes over keyframe bytes; ~0 = static scene


class RecordingGap(SQLModel, table=True):
    """A stretch a camera should have recorded and did not (offline, writer failure, restart)."""

    __tablename__ = "recording_gaps"
    __table_args__ = (Index("ix_recording_gaps_camera_start", "camera_id", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    camera_id: int = Field(foreign_key="cameras.id", ondelete="CASCADE")
    start: float
    end: float
    reason: str = Field(default="", max_length=500)


# ----------------------------------------------------------------------------- API keys
class ApiKey(SQLModel, table=True):
    """A bearer key besides the configured one: its role, its cameras, and a hash of its secret.

    The token is `iris_<key_id>_<secret>`; only `key_id` (public, how `iris keys` names it)
    and the SHA-256 of the secret are stored (`iris.db.keys`).
    """

    __tablename__ = "api_keys"
    __table_args__ = NO_ID_REUSE

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20)  # admin | viewer
    cameras: str | None = Field(default=None, max_length=4000)  # "1,3"; NULL: every camera
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# ----------------------------------------------------------------------------- camera rows
def _camera_rows() -> tuple[Any, ...]:
    models = {model.__table__: model for model in list(globals().values())
              if isinstance(model, type) and issubclass(model, SQLModel)
              and hasattr(model, "__table__")}
    return tuple(models[table] for table in reversed(SQLModel.metadata.sorted_tables)
                 if table in models and "camera_id" in table.columns)


CAMERA_ROWS = _camera_rows()
"""Every table whose rows belong to one camera (a `camera_id` column), dependents first (the
order a camera's rows are deleted in). Derived from the schema: a new table with a `camera_id`
is filtered by camera scope and purged with its camera without being listed anywhere."""
