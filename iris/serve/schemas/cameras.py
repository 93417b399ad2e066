"""Camera bodies: create, partial update (every field optional), and the masked public view.

The URL's shape is checked here (`iris.sources.parse_source`: scheme, host, user info that
FFmpeg and Python split alike); what this server's policy allows (http sources, local files,
resolved addresses) needs the settings and is checked by the routes with `check_source`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from iris.db.tables import DEFAULT_CONTINUOUS_DAYS, Camera
from iris.redact import MASK, redact_url
from iris.serve.schemas.common import Strict
from iris.serve.schemas.zones import (
    ZONE_FIELDS,
    MotionMasks,
    ObjectFilters,
    RequiredZones,
    Zones,
    unknown_required,
)
from iris.sources import parse_source

_CLASS_TOKEN = re.compile(r"^[a-z0-9][a-z0-9 _-]*$")


def mask_url(url: str) -> str:
    """The URL as the API shows it: rtsp://u:p@host/s → rtsp://***@host/s (`redact_url`)."""
    return redact_url(url)


def is_echo(url: str | None) -> bool:
    """A blank or masked URL on update means "keep the stored one"."""
    return url is None or not url.strip() or MASK in url


def _check_url(url: str) -> str:
    url = url.strip()
    parse_source(url)  # SourceRefused is a ValueError: pydantic words it as a 422
    return url


def _check_classes(value: str) -> str:
    tokens = [t.strip().lower() for t in value.split(",") if t.strip()]
    for token in tokens:
        if not _CLASS_TOKEN.match(token):
            raise ValueError(f"invalid class name {token!r}")
    return ",".join(dict.fromkeys(tokens))


def _check_optional_url(url: str | None) -> str | None:
    return url if is_echo(url) else _check_url(url or "")


StreamUrl = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_check_url)]
EchoableUrl = Annotated[str | None, Field(max_length=2048), AfterValidator(_check_optional_url)]
ClassCsv = Annotated[str, Field(max_length=1000), AfterValidator(_check_classes)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Transport = Literal["tcp", "udp"]

# The contract's range of each tuning field, once: create and update are built on these.
Fraction = Annotated[float, Field(ge=0, le=1)]
PreSeconds = Annotated[int, Field(ge=0, le=120)]
PostSeconds = Annotated[int, Field(ge=0, le=300)]
ImageSize = Annotated[int, Field(ge=128, le=1920)]
Interval = Annotated[float, Field(ge=0, le=60)]
Cooldown = Annotated[float, Field(ge=0, le=3600)]
TriggerFrames = Annotated[int, Field(ge=1, le=100)]
RetentionDays = Annotated[int, Field(ge=0, le=3650, description="Keep events N days; 0 = forever")]
ContinuousDays = Annotated[int, Field(
    ge=0, le=3650, description="Keep continuous footage N days; 0 = events only")]


class CameraSource(Strict):
    """What a camera is: its name, its stream and whether it runs."""

    name: Name
    rtsp_url: StreamUrl
    enabled: bool = True


class CameraTuning(Strict):
    """How the worker runs the camera: a change of any of these restarts it."""

    detect_conf: Fraction = 0.5
    pre_seconds: PreSeconds = 5
    post_seconds: PostSeconds = 10
    trigger_classes: ClassCsv = "person"
    detect_iou: Fraction = 0.45
    detect_imgsz: ImageSize = 320
    detect_interval: Interval = 0.2
    trigger_cooldown: Cooldown = 5.0
    min_trigger_frames: TriggerFrames = 3
    rtsp_transport: Transport = "tcp"
    faces_enabled: bool = True
    reid_enabled: bool = True
    motion_masks: MotionMasks = Field(default_factory=list)
    zones: Zones = Field(default_factory=list)
    required_zones: RequiredZones = Field(default_factory=list)
    object_filters: ObjectFilters = Field(default_factory=dict)


class CameraCreate(CameraTuning, CameraSource):
    """POST /api/cameras (source fields, then tuning, then retention)."""

    retention_days: RetentionDays = 30
    continuous_days: ContinuousDays = DEFAULT_CONTINUOUS_DAYS

    @model_validator(mode="after")
    def _required_zones_exist(self) -> CameraCreate:
        errors = unknown_required(self.zones, self.required_zones)
        if errors:
            raise ValueError(f"required_zones[{errors[0]['loc'][2]}]: "
                             f"{errors[0]['msg'].removeprefix('Value error, ')}")
        return self


class CameraUpdate(Strict):
    """PUT /api/cameras/{id}: the create fields, each optional; only those sent change.

    A blank or masked rtsp_url keeps the stored one.
    """

    name: Name | None = None
    rtsp_url: EchoableUrl = None
    enabled: bool | None = None
    detect_conf: Fraction | None = None
    pre_seconds: PreSeconds | None = None
    post_seconds: PostSeconds | None = None
    trigger_classes: ClassCsv | None = None
    detect_iou: Fraction | None = None
    detect_imgsz: ImageSize | None = None
    detect_interval: Interval | None = None
    trigger_cooldown: Cooldown | None = None
    min_trigger_frames: TriggerFrames | None = None
    rtsp_transport: Transport | None = None
    faces_enabled: bool | None = None
    reid_enabled: bool | None = None
    retention_days: RetentionDays | None = None
    continuous_days: ContinuousDays | None = None
    motion_masks: MotionMasks | None = None
    zones: Zones | None = None
    required_zones: RequiredZones | None = None
    object_filters: ObjectFilters | None = None

    def changes(self, camera: Camera) -> dict[str, Any]:
        """The fields sent that differ from the row (an echoed URL and nulls change nothing).

        Raises:
            RequestValidationError: (422) required_zones would name a zone the camera lacks.
        """
        sent = self.model_dump(exclude_unset=True)
        if is_echo(sent.get("rtsp_url")):
            sent.pop("rtsp_url", None)
        for name in ZONE_FIELDS:  # whole, as create stores them, so an echo is no change
            if sent.get(name) is not None:
                sent[name] = self.model_dump(include={name})[name]
        if "zones" in sent or "required_zones" in sent:
            zones = sent.get("zones")
            required = sent.get("required_zones")
            errors = unknown_required(
                camera.zones or [] if zones is None else zones,
                camera.required_zones or [] if required is None else required)
            if errors:
                raise RequestValidationError(errors)
        return {k: v for k, v in sent.items() if v is not None and getattr(camera, k) != v}


# Fields whose change restarts the camera's worker (retention is applied by the manager).
TUNING_FIELDS = frozenset(CameraTuning.model_fields)


class CameraStatus(BaseModel):
    """GET /api/cameras/{id}/status."""

    id: int
    status: Literal["online", "offline", "error", "connecting"]
    last_seen: datetime | None
    fps: float
    detector: str | None = None
    reason: str | None = None


class CameraPublic(CameraCreate):
    """A camera as the API returns it: the URL masked, status derived from the heartbeat."""

    model_config = ConfigDict(extra="ignore")

    id: int
    rtsp_url: str  # type: ignore[assignment]  # masked, not re-validated
    trigger_classes: str  # type: ignore[assignment]
    status: str
    last_seen: datetime | None
    fps: float = 0.0
    detector: str | None = None
    status_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    @field_validator(*ZONE_FIELDS, mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any, info: Any) -> Any:
        # A row of an older database has NULL there: no masks, zones or filters.
        if value is None:
            return {} if info.field_name == "object_filters" else []
        return value


class DetectClasses(BaseModel):
    """GET /api/cameras/detect/classes."""

    classes: list[str]
    default: list[str]
    available: bool
    reason: str | None = None
