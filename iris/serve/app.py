"""`build_app(settings)`: the Serve application (ingress + deployments) for one Iris instance."""

from __future__ import annotations

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from iris.serve.api import create_api
from iris.settings import Settings

INGRESS_MAX_ONGOING = 1000  # MJPEG viewers hold requests open for minutes


def _ingress_api(settings: Settings, dashboard_url: str | None) -> FastAPI:
    from iris.serve.ray_runtime import RayRuntime

    return create_api(settings, RayRuntime(settings, dashboard_url))


def build_app(settings: Settings, dashboard_url: str | None = None) -> Application:
    """The ingress deployment (FastAPI built on the replica), named `Ingress`."""

    def ingress_api() -> FastAPI:  # a plain function: Serve builds the app on the replica
        return _ingress_api(settings, dashboard_url)

    @serve.deployment(
        name="Ingress",
        num_replicas=1,
        max_ongoing_requests=INGRESS_MAX_ONGOING,
        ray_actor_options={"num_cpus": 0.5},
    )
    @serve.ingress(ingress_api)
    class Ingress:
        """Serves the REST API and the SPA."""

    return Ingress.bind()  # type: ignore[attr-defined,no-any-return]
