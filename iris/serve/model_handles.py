"""Finding the model deployments, which run once a camera started them (iris/serve/models.py).

Light on purpose: the Ingress imports it, and must not load the model code it never runs.
"""

from __future__ import annotations

from ray import serve
from ray.serve.handle import DeploymentHandle

from iris import names
from iris.models.errors import missing_weights_reason
from iris.settings import Settings

#: What the API says about a model that is not deployed yet.
STANDBY_REASON = "standby: the models load when the first camera starts"


def undeployed_detector_info(settings: Settings) -> dict[str, object]:
    """What `detector_info` says before a camera deployed the Detector: standby when its
    weights are there, else the missing weights (the replica would only say so once up)."""
    info: dict[str, object] = {"available": False, "backend": settings.detector_backend}
    path = settings.detector_model_path
    if not path.is_file():
        return {**info, "reason": missing_weights_reason(path)}
    return {**info, "status": "standby", "reason": STANDBY_REASON}


def model_handle(settings: Settings, deployment: str) -> DeploymentHandle | None:
    """The model's handle, or None while its app is not deployed."""
    app = names.model_app(settings.serve_app_name, deployment)
    try:
        return serve.get_deployment_handle(deployment, app_name=app)
    except KeyError:  # Serve's answer for an app (or deployment) it does not have
        return None


def deployed_models(settings: Settings) -> set[str]:
    """The model deployments whose app Serve has (running or still starting)."""
    apps = serve.status().applications
    return {d for d in names.MODELS if names.model_app(settings.serve_app_name, d) in apps}
