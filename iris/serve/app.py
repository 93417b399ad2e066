"""`build_app(settings)`: the Serve application (ingress + deployments) for one Iris instance."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from iris import names
from iris.db.engine import connect
from iris.serve.api import create_api
from iris.serve.detector import Detector
from iris.serve.embedder import Embedder
from iris.serve.runtime import OfflineRuntime
from iris.settings import Settings

INGRESS_MAX_ONGOING = 1000  # MJPEG viewers hold requests open for minutes


def ingress_api(settings: Settings, detector: DeploymentHandle, embedder: DeploymentHandle,
                dashboard_url: str | None = None) -> FastAPI:
    """The API over a `RayRuntime` that calls the model deployments through these handles."""
    from iris.serve.ray_runtime import RayRuntime

    engine = connect(settings.resolved_database_url)
    runtime = RayRuntime(settings, detector=detector, embedder=embedder,
                         fallback=OfflineRuntime(engine, settings.root),
                         dashboard_url=dashboard_url)
    return create_api(settings, runtime, engine=engine)


def gpu_fraction(requested: float) -> float:
    """The configured GPU fraction, or 0 on a cluster without GPUs (else replicas never start)."""
    import ray

    return requested if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


# Model calls come several times a second per camera; a log line each is CPU spent on noise.
MODEL_LOGGING = {"enable_access_log": False}


def detector_app(settings: Settings) -> Application:
    """The Detector deployment, bound with its backend, weights and batching config.

    Cameras send frames to a replica on their host over its local socket, which Serve's
    autoscaler does not see; so an autoscaled Detector takes every frame through its handle.
    """
    replicas: dict[str, Any] = {"num_replicas": settings.detector_min_replicas}
    autoscaled = settings.detector_max_replicas > settings.detector_min_replicas
    if autoscaled:
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
    ).bind(settings.detector_backend, str(settings.detector_model_path),
           local_socket=settings.detector_local_socket and not autoscaled)


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
    """The ingress deployment (FastAPI built on the replica), named `Ingress`, and its models.

    The Detector and Embedder are bound into the Ingress; their handles reach the API's
    runtime through the constructor, so nothing looks a deployment up by name at call time.
    """

    @serve.deployment(
        name=names.INGRESS,
        num_replicas=1,
        max_ongoing_requests=INGRESS_MAX_ONGOING,
        ray_actor_options={"num_cpus": 0.5, "resources": {"node:__internal_head__": 0.001}},
    )
    @serve.ingress()
    class Ingress:
        """Serves the REST API and the SPA over the model deployments it was bound with."""

        def __init__(self, detector: DeploymentHandle, embedder: DeploymentHandle) -> None:
            self._detector, self._embedder = detector, embedder

        def __serve_build_asgi_app__(self) -> FastAPI:  # Serve calls it after __init__
            return ingress_api(settings, self._detector, self._embedder, dashboard_url)

    return Ingress.bind(  # type: ignore[attr-defined,no-any-return]
        detector_app(settings), embedder_app(settings))
