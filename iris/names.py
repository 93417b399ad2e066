"""Every Ray actor and Serve deployment name, in one place (no Ray import).

These are the names the Ray dashboard shows, so they are the system as operators think of it
(DESIGN.md): code that creates, finds or tests an actor or a deployment takes its name from here.
Named actors live in the instance's namespace (`Settings.ray_namespace`); deployments in its
Serve application (`Settings.serve_app_name`).
"""

from __future__ import annotations

WORKER_MANAGER = "WorkerManager"
"""The actor that starts, stops and watches every camera actor."""
IDENTITY_MANAGER = "IdentityManager"
"""The singleton actor holding the identity galleries."""
HLS_MANAGER = "HlsManager"
"""The actor (class `HlsActor`) owning every RTSP→HLS session."""
NOTIFIER = "Notifier"
"""The actor that sends notifications (MQTT, webhooks) for cameras."""
DETECTOR = "Detector"
"""The shared YOLO deployment."""
EMBEDDER = "Embedder"
"""The shared face + appearance deployment."""
INGRESS = "Ingress"
"""The FastAPI deployment serving the API and the web app."""

CAMERA_PREFIX = "camera-"


def camera_actor(camera_id: int) -> str:
    """The actor name of one camera's worker: ``camera-<id>``."""
    return f"{CAMERA_PREFIX}{camera_id}"
