"""Iris settings: one resolved object from `configs/iris.yaml` and `IRIS_*` environment variables.

Precedence (highest first): explicit keyword arguments, `IRIS_*` environment variables, the YAML
file (``IRIS_CONFIG`` or ``configs/iris.yaml``), then the defaults below.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from iris.layout import Layout

DEFAULT_CONFIG = Path("configs/iris.yaml")


def _config_file() -> Path | None:
    path = Path(os.environ.get("IRIS_CONFIG", DEFAULT_CONFIG))
    return path if path.is_file() else None


EventChange = Literal["new", "update", "end"]
EVENT_CHANGES: tuple[EventChange, ...] = ("new", "update", "end")


class WebhookTarget(BaseModel):
    """One webhook receiver: where, which event changes, and the signing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1, max_length=2048)
    events: list[EventChange] = Field(default_factory=lambda: list(EVENT_CHANGES))
    secret: str | None = Field(None, repr=False, max_length=1000)


Role = Literal["admin", "viewer"]
"""What a principal may do: admin everything; viewer list and watch (no change of any kind)."""
ROLES: tuple[Role, ...] = ("admin", "viewer")
ADMIN_SEES_ALL = "an admin sees every camera: camera limits are for viewers"


class RoleGrant(BaseModel):
    """What an SSO group (`role_map`) or an API key grants: a role, and for a viewer optionally
    the only cameras (ids) it may see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role = "viewer"
    cameras: list[int] | None = Field(
        default=None, description="Camera ids this grant may see; left out: every camera.")

    @field_validator("cameras")
    @classmethod
    def _cameras(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one camera id, or leave cameras out for every camera")
        if any(camera < 1 for camera in value):
            raise ValueError("camera ids are positive integers")
        return sorted(set(value))

    @model_validator(mode="after")
    def _admin_sees_all(self) -> RoleGrant:
        if self.role == "admin" and self.cameras is not None:
            raise ValueError(ADMIN_SEES_ALL)
        return self


class Settings(BaseSettings):
    """Every tunable of an Iris instance, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="IRIS_", extra="forbid", frozen=True, validate_default=True
    )

    host: str = Field("127.0.0.1", description="Address the HTTP proxy binds to.")
    port: int = Field(8000, ge=1, le=65535, description="HTTP port of the API and SPA.")
    data_dir: Path = Field(Path("data"), description="Root of all media and the SQLite DB.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; empty means SQLite at <data_dir>/iris.db."
    )

    auth_required: bool = Field(True, description="Refuse /api requests without credentials.")
    api_key: str | None = Field(
        None, repr=False,
        description="Bearer key; when empty `iris up` creates <data_dir>/api_key once.",
    )
    sso_email_header: str = Field("X-Email", min_length=1)
    sso_user_header: str = Field("X-User", min_length=1)
    sso_groups_header: str | None = Field(
        None, description="Header the gateway puts the user's groups in (comma-separated), "
                          "e.g. X-Groups; trusted only with the gateway's proof.")
    role_map: dict[str, RoleGrant] = Field(
        default_factory=dict,
        description="SSO group -> {role, cameras}; a user in several groups gets the most.")
    sso_default_role: Role | Literal["none"] = Field(
        "viewer", description="Role of a signed-in SSO user in no mapped group; none refuses "
                              "them (403).")
    sso_gateway_secret: str | None = Field(
        None, repr=False,
        description="Proof the gateway sends in X-Iris-Gateway; SSO headers count only with "
                    "it. Empty: `iris up` creates <data_dir>/gateway_secret once.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header values the API answers, besides loopback names and `host`.",
    )

    allow_http_sources: bool = Field(
        False, description="Accept http(s) and rtmp camera sources (never to loopback, "
                           "link-local or metadata addresses).")
    local_sources_dir: Path | None = Field(
        None, description="Folder whose files may be camera sources (file:); empty means "
                          "<data_dir>/demo.")
    tls_verify: bool = Field(True, description="Verify certificates of rtsps/https sources.")
    stop_timeout_seconds: float = Field(
        30.0, ge=1, le=600, description="Budget for `iris up` to stop every camera.")

    live_max_viewers: int = Field(200, ge=1, le=10000,
                                  description="Live MJPEG streams open at once, in all.")
    live_max_viewers_per_principal: int = Field(
        32, ge=1, le=10000, description="Live MJPEG streams one principal may hold open.")
    live_write_timeout_seconds: float = Field(
        15.0, gt=0, le=600, description="A live viewer that reads nothing this long is closed.")
    upload_decode_concurrency: int = Field(
        2, ge=1, le=64, description="Uploaded images decoded at once.")

    live_mjpeg_fps: int = Field(10, ge=1, le=60, description="Cap of the MJPEG frame rate.")
    detect_crop: bool = Field(
        True, description="Detect in the moving region of a frame (padded, at least the "
                          "detector's input size) rather than the whole frame.")
    idle_decode: Literal["all", "reduced", "keyframes"] = Field(
        "all", description="Decoding of a camera with no motion, no open event and no live "
                           "viewer: all frames, reduced (frames nothing refers to are skipped), "
                           "or keyframes only (motion is noticed up to one keyframe interval "
                           "late). Recording keeps every packet.")
    stationary_seconds: float = Field(
        30.0, ge=0, le=86400, description="A tracked object that has not moved this long "
                                          "stops holding an event open and does not trigger "
                                          "until it moves again; 0 = off.")
    status_stale_seconds: float = Field(30.0, gt=0, le=3600)
    heartbeat_seconds: float = Field(1.0, gt=0, le=60)
    segment_seconds: float = Field(
        6.0, ge=0.5, le=10, description="Length of recorded segments (cut at keyframes).")
    segment_retention_seconds: float = Field(
        300.0, ge=10, le=86400,
        description="Live pre-roll buffer of cameras with continuous_days 0 (events only).")

    storage_max_gb: float = Field(
        0.0, ge=0, description="Cap on the recordings' size; oldest footage goes first. 0 = none."
    )
    retention_check_seconds: float = Field(60.0, ge=1, le=86400)
    retention_floor_hours: float = Field(
        1.0, ge=0, le=8760, description="Events younger than this are never deleted by retention.")
    storage_min_free_gb: float = Field(
        5.0, ge=0, description="Free-disk floor: below it, the oldest recordings are deleted.")
    storage_min_free_percent: float = Field(
        5.0, ge=0, le=90, description="Free-disk floor as a share of the disk (the larger wins).")
    clip_cache_hours: float = Field(
        24.0, gt=0, le=8760, description="Clips cut on demand are kept this long unread.")
    recordings_clip_max_seconds: float = Field(
        3600.0, ge=10, le=86400, description="Longest range one export clip may cover.")

    hls_enabled: bool = True
    hls_max_sessions: int = Field(4, ge=0, le=64)
    hls_idle_seconds: float = Field(30.0, ge=2, le=3600)
    hls_max_sessions_per_principal: int = Field(2, ge=1, le=64)

    detector_backend: Literal["onnx", "ultralytics"] = "onnx"
    detector_model: Path | None = Field(
        None, description="Detector weights; empty means <data_dir>/models/yolo11n.onnx."
    )
    detector_num_gpus: float = Field(0.5, ge=0, le=8)
    detector_max_batch_size: int = Field(8, ge=1, le=64)
    detector_batch_wait_s: float = Field(0.01, ge=0, le=1)
    detector_local_socket: bool = Field(
        True, description="Cameras send frames to a Detector replica on their own host over a "
                          "UNIX socket instead of a Serve call (ignored when autoscaled).")
    embedder_num_gpus: float = Field(0.25, ge=0, le=8)
    face_model_root: Path | None = Field(
        None, description="insightface root; empty means <data_dir>/models/insightface."
    )
    face_model_pack: str = "buffalo_l"
    models_base_url: str | None = Field(
        None, description="Mirror to fetch model weights from (same file names and hashes as "
                          "the pinned list); empty means each file's upstream URL.")
    models_auto_fetch: bool = Field(
        True, description="`iris up` fetches missing model weights before starting.")

    mqtt_url: str | None = Field(
        None, repr=False,
        description="MQTT broker for events and Home Assistant, e.g. mqtt://user:pass@host:1883 "
                    "or mqtts://…; empty means no MQTT.")
    mqtt_topic_prefix: str = Field("iris", min_length=1, max_length=100,
                                   pattern=r"^[A-Za-z0-9_\-/]+$")
    mqtt_discovery_prefix: str = Field("homeassistant", min_length=1, max_length=100,
                                       pattern=r"^[A-Za-z0-9_\-/]+$")
    webhooks: list[WebhookTarget] = Field(
        default_factory=list, repr=False,
        description="POST each event change, signed with the target's secret.")
    notify_queue_size: int = Field(1000, ge=10, le=100000,
                                   description="Pending notifications per target, at most.")

    camera_num_cpus: float = Field(0.25, ge=0, le=64, description="CPUs each camera reserves.")
    camera_resources: dict[str, float] = Field(
        default_factory=dict,
        description="Custom Ray resources each camera actor requests (pin cameras to nodes).",
    )
    camera_spread: bool = Field(True, description="Spread camera actors across nodes.")
    detector_min_replicas: int = Field(1, ge=1, le=64)
    detector_max_replicas: int = Field(1, ge=1, le=64)
    detector_target_ongoing_requests: float = Field(8.0, gt=0, le=1000)

    ray_address: str = Field("", description="Ray cluster address; empty = embedded Ray.")
    ray_namespace: str = "iris"
    ray_num_cpus: int | None = Field(
        None, ge=1, le=1024,
        description="Logical CPUs of embedded Ray; empty means the core count, at least 8.")
    dashboard: bool = Field(
        False, description="Start the Ray dashboard with embedded Ray (11 more processes, "
        "about 250 MiB); a cluster's dashboard is reported either way.")
    dashboard_port: int = Field(8265, ge=1, le=65535)
    serve_app_name: str = "iris"

    @field_validator("database_url", "api_key", "sso_gateway_secret", "mqtt_url",
                     "models_base_url", "sso_groups_header", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = _config_file()
        if config is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config))
        return tuple(sources)

    # Derived paths: one place decides where everything lives under the data root.
    @property
    def root(self) -> Path:
        return self.data_dir.resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{Layout(self.root).database}"

    @property
    def detector_model_path(self) -> Path:
        return self.detector_model or Layout(self.root).models / "yolo11n.onnx"

    @property
    def face_model_root_path(self) -> Path:
        return self.face_model_root or Layout(self.root).models / "insightface"

    @property
    def local_sources_path(self) -> Path:
        """The only folder whose regular files may be camera sources."""
        return (self.local_sources_dir or Layout(self.root).demo).resolve()

    @property
    def trusted_hosts(self) -> list[str]:
        """Host header values the API answers: loopback names, `host`, `allowed_hosts`."""
        hosts = ["localhost", "127.0.0.1", "::1", "[::1]", *self.allowed_hosts]
        if self.host not in ("0.0.0.0", "::", ""):
            hosts.append(self.host)
        return list(dict.fromkeys(hosts))


class SettingsError(RuntimeError):
    """Raised when configuration is invalid; the message names every bad field."""


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"invalid setting '{field}': {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("\n".join(lines)) from None


def read_or_create_secret(path: Path) -> str:
    """The secret kept in `path` (mode 0600, enforced on every call), created once if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        os.chmod(path, 0o600)
        value = path.read_text().strip()
        if value:
            return value
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)
    return value


API_KEY_FILE = "api_key"
GATEWAY_SECRET_FILE = "gateway_secret"


def ensure_api_key(settings: Settings) -> Settings:
    """Return settings with an API key: the configured one, or one kept in <data_dir>/api_key."""
    if settings.api_key:
        return settings
    key = read_or_create_secret(settings.root / API_KEY_FILE)
    return settings.model_copy(update={"api_key": key})


def ensure_gateway_secret(settings: Settings) -> Settings:
    """Return settings with a gateway secret: the configured one, or <data_dir>/gateway_secret."""
    if settings.sso_gateway_secret:
        return settings
    secret = read_or_create_secret(settings.root / GATEWAY_SECRET_FILE)
    return settings.model_copy(update={"sso_gateway_secret": secret})
