"""One Iris instance brought up inside Ray: its actors, its Serve app, its cameras.

`iris.runner.deploy` and `iris.runner.shutdown` run `deploy_instance` and `stop_instance` in a
one-off Ray actor, so the `iris up` driver stays small: it never imports this module.
Everything created here outlives that actor: the IdentityManager and the WorkerManager are
detached (the Notifier always was; Serve's controller owns the apps, the WorkerManager its
cameras) until `stop_instance` ends them.
"""

from __future__ import annotations

import logging

import ray
from ray import serve

from iris import names
from iris.actors.identity import IdentityManager
from iris.actors.manager import WorkerManager
from iris.actors.notifier import start_notifier, stop_notifier
from iris.db.engine import make_engine
from iris.serve.app import build_app
from iris.serve.model_handles import deployed_models
from iris.serve.models import start_models
from iris.serve.proxy_callback import CONTROLLER_OPTIONS
from iris.settings import Settings

log = logging.getLogger("iris.up")

#: The instance's own actors besides the cameras (their manager's) and the Notifier.
INSTANCE_ACTORS = (names.WORKER_MANAGER, names.IDENTITY_MANAGER)

def deploy_instance(settings: Settings, dashboard_url: str | None, route_prefix: str) -> None:
    """Create the actors, deploy the Serve app, start the cameras."""
    # The schema is created or upgraded here, once: every actor below only connects.
    make_engine(settings.resolved_database_url).dispose()
    identity = IdentityManager.options(  # type: ignore[attr-defined]
        name=names.IDENTITY_MANAGER, namespace=settings.ray_namespace, get_if_exists=True,
        lifetime="detached", resources=names.HEAD_ONLY,
    ).remote(settings)
    # Before the cameras, so each finds it (by name) when it starts; None when not configured.
    try:
        start_notifier(settings, names.HEAD_ONLY)
    except Exception as exc:  # noqa: BLE001 - cameras record without notifications
        log.warning("notifications not started: %s", exc)
    # The manager deploys the models when it starts the first camera.
    manager = WorkerManager.options(  # type: ignore[attr-defined]
        name=names.WORKER_MANAGER, namespace=settings.ray_namespace, get_if_exists=True,
        lifetime="detached", resources=names.HEAD_ONLY,
    ).remote(settings, identity, start_models)
    # One HTTP proxy, on the head: the API binds to one loopback address behind nginx. The
    # proxy closes live streams whose client stopped reading (iris/serve/proxy_guard.py).
    serve.start(proxy_location="HeadOnly",
                http_options={"host": settings.host, "port": settings.port},
                controller_options=CONTROLLER_OPTIONS)
    # Before the API answers: from then on a new camera may deploy them itself.
    if deployed_models(settings):  # a cluster kept them from an earlier `iris up`
        start_models(settings, redeploy=True)  # with these settings; cameras start them else
    serve.run(build_app(settings, dashboard_url), name=settings.serve_app_name,
              route_prefix=route_prefix)
    ray.get(manager.reconcile.remote())


def stop_instance(namespace: str, stop_timeout_s: float) -> None:
    """Stop the cameras (within `stop_timeout_s`), the Notifier, the actors and Serve."""
    try:
        manager = ray.get_actor(names.WORKER_MANAGER, namespace=namespace)
    except ValueError:  # the start failed before it
        manager = None
    if manager is not None:
        try:
            ray.get(manager.stop_all.remote(stop_timeout_s), timeout=stop_timeout_s + 5)
        except Exception as exc:  # noqa: BLE001 - shutting down regardless
            log.warning("stopping cameras failed: %s", exc)
    # After the cameras (their last events go out), before Ray: `offline`, not the will.
    stop_notifier(namespace)
    for name in INSTANCE_ACTORS:  # detached: a cluster would keep them
        try:
            ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)
        except ValueError:  # not running
            continue
    serve.shutdown()

