"""`build_app(settings)`: the Serve application of the API ingress for one Iris instance."""

from __future__ import annotations

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from iris import names
from iris.settings import Settings

INGRESS_MAX_ONGOING = 1000  # MJPEG viewers hold requests open for minutes


def ingress_api(settings: Settings, dashboard_url: str | None = None) -> FastAPI:
    """The API over a `RayRuntime`, which finds the model deployments once they are deployed.

    Runs on the replica only: the driver that builds the app does not load the API's code.
    """
    from iris.db.engine import connect
    from iris.serve.api import create_api
    from iris.serve.ray_runtime import RayRuntime
    from iris.serve.runtime import OfflineRuntime

    engine = connect(settings.resolved_database_url)
    runtime = RayRuntime(settings, fallback=OfflineRuntime(engine, settings.root),
                         dashboard_url=dashboard_url)
    return create_api(settings, runtime, engine=engine)


def build_app(settings: Settings, dashboard_url: str | None = None) -> Application:
    """The ingress deployment (FastAPI built on the replica), named `Ingress`.

    The Detector and Embedder are apps of their own, deployed with the first camera
    (iris/serve/models.py).
    """

    @serve.deployment(
        name=names.INGRESS,
        num_replicas=1,
        max_ongoing_requests=INGRESS_MAX_ONGOING,
        ray_actor_options={"num_cpus": 0.5, "resources": names.HEAD_ONLY},
    )
    @serve.ingress()
    class Ingress:
        """Serves the REST API and the SPA."""

        def __serve_build_asgi_app__(self) -> FastAPI:  # Serve calls it after __init__
            return ingress_api(settings, dashboard_url)

    return Ingress.bind()  # type: ignore[attr-defined,no-any-return]
