"""The model deployments (Detector, Embedder): each a Serve app, started with the first camera.

An Iris with no camera has nothing to detect, and the two model replicas were a fifth of its
idle memory (bench/idle_bench.py); so they are deployed when the WorkerManager starts a camera
or the API needs a face model (a face search), not at `iris up`. Only the WorkerManager calls
`start_models`, under its lock; everything else finds the handles with
`iris.serve.model_handles.model_handle`, which answers None while a model is not deployed.
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle

from iris import names
from iris.serve.detector import Detector
from iris.serve.embedder import Embedder
from iris.serve.model_handles import deployed_models, model_handle
from iris.settings import Settings

# Model calls come several times a second per camera; a log line each is CPU spent on noise.
MODEL_LOGGING = {"enable_access_log": False}

def gpu_fraction(requested: float) -> float:
    """The configured GPU fraction, or 0 on a cluster without GPUs (else replicas never start)."""
    import ray

    return requested if ray.cluster_resources().get("GPU", 0) > 0 else 0.0


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


BUILDERS = {names.DETECTOR: detector_app, names.EMBEDDER: embedder_app}


def start_models(settings: Settings, *, redeploy: bool = False) -> dict[str, DeploymentHandle]:
    """Deploy the model apps not deployed yet (all of them with ``redeploy``); their handles.

    Returns once Serve has the deployments, not once their replicas run: calls through the
    handles wait for a replica, so a camera starting meanwhile is not held up by model loading.
    """
    missing = set(names.MODELS) if redeploy else set(names.MODELS) - deployed_models(settings)
    if missing:
        serve.run_many([
            serve.RunTarget(BUILDERS[d](settings), name=names.model_app(settings.serve_app_name, d),
                            route_prefix=None)
            for d in names.MODELS if d in missing], wait_for_applications_running=False)
    handles = {d: model_handle(settings, d) for d in names.MODELS}
    return {d: h for d, h in handles.items() if h is not None}


def stop_models(settings: Settings) -> None:
    """Delete the model apps (an instance going away in a cluster that stays)."""
    for deployment in names.MODELS:
        serve.delete(names.model_app(settings.serve_app_name, deployment))
