"""Camera bodies: create, partial update (every field optional), and the masked public view.

The URL's shape is checked here (`iris.sources.parse_source`: scheme, host, user info that
FFmpeg and Python split alike); what this server's policy allows (http sources, local files,
resolved addresses) needs the settings and is checked by the routes with `check_source`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from iris.redact import MASK, redact_url
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
ClassCsv = Annotated[str, Field(max_length=1000), AfterValidator(_check_classes)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Transport = Literal["tcp", "udp"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CameraCreate(_Strict):
    """POST /api/cameras."""

    name: Name
    rtsp_url: StreamUrl
    enabled: bool = True
    detect_conf: float = Field(0.5, ge=0, le=1)
    pre_seconds: int = Field(5, ge=0, le=120)
    post_seconds: int = Field(10, ge=0, le=300)
    trigger_classes: ClassCsv = "person"
    detect_iou: float = Field(0.45, ge=0, le=1)
    detect_imgsz: int = Field(320, ge=128, le=1920)
    detect_interval: float = Field(0.2, ge=0, le=60)
    trigger_cooldown: float = Field(5.0, ge=0, le=3600)
    min_trigger_frames: int = Field(3, ge=1, le=100)
    rtsp_transport: Transport = "tcp"
    faces_enabled: bool = True
    reid_enabled: bool = True
    retention_days: int = Field(30, ge=0, le=3650, description="Keep events N days; 0 = forever")


class CameraUpdate(_Strict):
    """PUT /api/cameras/{id}: partial; a blank or masked rtsp_url keeps the stored one."""

    name: Name | None = None
    rtsp_url: Annotated[
        str | None, Field(max_length=2048), AfterValidator(_check_optional_url)
    ] = None
    enabled: bool | None = None
    detect_conf: float | None = Field(None, ge=0, le=1)
    pre_seconds: int | None = Field(None, ge=0, le=120)
    post_seconds: int | None = Field(None, ge=0, le=300)
    trigger_classes: ClassCsv | None = None
    detect_iou: float | None = Field(None, ge=0, le=1)
    detect_imgsz: int | None = Field(None, ge=128, le=1920)
    detect_interval: float | None = Field(None, ge=0, le=60)
    trigger_cooldown: float | None = Field(None, ge=0, le=3600)
    min_trigger_frames: int | None = Field(None, ge=1, le=100)
    rtsp_transport: Transport | None = None
    faces_enabled: bool | None = None
    reid_enabled: bool | None = None
    retention_days: int | None = Field(None, ge=0, le=3650)


# Fields whose change restarts the camera's worker (retention is applied by the manager).
TUNING_FIELDS = frozenset(CameraCreate.model_fields) - {"name", "rtsp_url", "enabled",
                                                         "retention_days"}


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


class DetectClasses(BaseModel):
    """GET /api/cameras/detect/classes."""

    classes: list[str]
    default: list[str]
    available: bool
    reason: str | None = None
