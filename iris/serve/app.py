"""`build_app(settings)`: the Serve application (ingress + deployments) for one Iris instance."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from iris.serve.api import create_api
from iris.serve.detector import Detector
from iris.serve.embedder import Embedder
from iris.settings import Settings

INGRESS_MAX_ONGOING = 1000  # MJPEG viewers hold requests open for minutes


def _ingress_api(settings: Settings, dashboard_url: str | None) -> FastAPI:
    from iris.serve.ray_runtime import RayRuntime

    return create_api(settings, RayRuntime(settings, dashboard_url))


def gpu_fraction(requested: float) -> float:
    """The configured GPU fraction, or 0 on a cluster without GPUs (else replicas never start)."""
    import ray

    return requested if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


# Model calls come several times a second per camera; a log line each is CPU spent on noise.
MODEL_LOGGING = {"enable_access_log": False}


def detector_app(settings: Settings) -> Application:
    """The Detector deployment, bound with its backend, weights and batching config."""
    replicas: dict[str, Any] = {"num_replicas": settings.detector_min_replicas}
    if settings.detector_max_replicas > settings.detector_min_replicas:
        replicas = {"autoscaling_config": {
            "min_replicas": settings.detector_min_replicas,
            "max_replicas": settings.detector_max_replicas,
            "target_ongoing_requests": settings.detector_target_ongoing_requests}}
    return Detector.options(  # type: ignore[attr-defined,no-any-return]
        **replicas,
        max_ongoing_requests=max(64, 4 * settings.detector_max_batch_size),
        ray_actor_options={"num_cpus": 1,
                           "num_gpus": gpu_fraction(settings.detector_num_gpus)},
        user_config={"max_batch_size": settings.detector_max_batch_size,
                     "batch_wait_timeout_s": settings.detector_batch_wait_s},
        logging_config=MODEL_LOGGING,
    ).bind(settings.detector_backend, str(settings.detector_model_path))


def embedder_app(settings: Settings) -> Application:
    """The Embedder deployment (faces + appearance), bound with its model pack."""
    return Embedder.options(  # type: ignore[attr-defined,no-any-return]
        max_ongoing_requests=64,
        ray_actor_options={"num_cpus": 0.5,
                           "num_gpus": gpu_fraction(settings.embedder_num_gpus)},
        user_config={"max_batch_size": 8, "batch_wait_timeout_s": 0.02},
        logging_config=MODEL_LOGGING,
    ).bind(str(settings.face_model_root_path), settings.face_model_pack)


def build_app(settings: Settings, dashboard_url: str | None = None) -> Application:
    """The ingress deployment (FastAPI built on the replica), named `Ingress`, and its models."""

    def ingress_api() -> FastAPI:  # a plain function: Serve builds the app on the replica
        return _ingress_api(settings, dashboard_url)

    @serve.deployment(
        name="Ingress",
        num_replicas=1,
        max_ongoing_requests=INGRESS_MAX_ONGOING,
        ray_actor_options={"num_cpus": 0.5, "resources": {"node:__internal_head__": 0.001}},
    )
    @serve.ingress(ingress_api)
    class Ingress:
        """Serves the REST API and the SPA; holds the model deployments in the app graph."""

        def __init__(self, detector: Any, embedder: Any) -> None:
            self.detector, self.embedder = detector, embedder

    return Ingress.bind(  # type: ignore[attr-defined,no-any-return]
        detector_app(settings), embedder_app(settings))
