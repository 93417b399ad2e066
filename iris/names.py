"""Every Ray actor and Serve deployment name, in one place (no Ray import).

These are the names the Ray dashboard shows, so they are the system as operators think of it
(DESIGN.md): code that creates, finds or tests an actor or a deployment takes its name from here.
Named actors live in the instance's namespace (`Settings.ray_namespace`); the Ingress in its
Serve application (`Settings.serve_app_name`), each model deployment in an app of its own
(`model_app`).
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
MODELS = (DETECTOR, EMBEDDER)
"""The model deployments: every camera gets a handle of each; each is a Serve app of its own."""
INGRESS = "Ingress"
"""The FastAPI deployment serving the API and the web app."""

HEAD_ONLY = {"node:__internal_head__": 0.001}
"""The resource that puts an actor on the head node, where the managers and the ingress live
(ray_cluster.yaml); each takes a sliver of it."""

CAMERA_PREFIX = "camera-"


def camera_actor(camera_id: int) -> str:
    """The actor name of one camera's worker: ``camera-<id>``."""
    return f"{CAMERA_PREFIX}{camera_id}"


def model_app(serve_app: str, deployment: str) -> str:
    """The Serve app of one model deployment: ``<serve_app>-detector``, ``<serve_app>-embedder``."""
    return f"{serve_app}-{deployment.lower()}"
