"""`iris up`: embedded (or cluster) Ray, the WorkerManager, the Serve app; clean shutdown."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from iris.settings import Settings

log = logging.getLogger("iris.up")

# Ray gives the head node this resource: managers and the ingress live there (ray_cluster.yaml).
HEAD_ONLY = {"node:__internal_head__": 0.001}

# On one box, CPU reservations only decide what may start: the Detector (1), Embedder (0.5)
# and ingress (0.5) alone take a 2-core machine's 2 logical CPUs, and cameras (0.25 each) would
# wait forever. Embedded Ray therefore counts at least this many.
LOCAL_MIN_CPUS = 8


def local_num_cpus(settings: Settings, cores: int | None = None) -> int:
    """Logical CPUs for embedded Ray: the setting, else the core count but at least 8."""
    if settings.ray_num_cpus:
        return settings.ray_num_cpus
    return max(cores if cores is not None else os.cpu_count() or 1, LOCAL_MIN_CPUS)


def start_ray(settings: Settings, *, dashboard: bool | None = None) -> str | None:
    """Start embedded Ray (or join the configured cluster); returns the dashboard URL."""
    import ray

    with_dashboard = settings.dashboard if dashboard is None else dashboard
    kwargs: dict[str, Any] = {"namespace": settings.ray_namespace, "log_to_driver": True}
    if settings.ray_address:
        ray.init(address=settings.ray_address, **kwargs)
    else:
        ray.init(
            address="local",
            include_dashboard=with_dashboard,
            dashboard_host="127.0.0.1",
            dashboard_port=settings.dashboard_port,
            num_cpus=local_num_cpus(settings),
            **kwargs,
        )
    context = ray.get_runtime_context()
    url = getattr(context, "dashboard_url", None) or None
    if url and not url.startswith("http"):
        url = f"http://{url}"
    return url if with_dashboard or settings.ray_address else None


def deploy(settings: Settings, dashboard_url: str | None = None, route_prefix: str = "/") -> Any:
    """Create the WorkerManager, deploy the Serve app, start the cameras; returns the manager."""
    from ray import serve

    from iris.actors.identity import IDENTITY_MANAGER_NAME, IdentityManager
    from iris.actors.manager import MANAGER_NAME, WorkerManager
    from iris.serve.app import build_app

    identity = IdentityManager.options(  # type: ignore[attr-defined]
        name=IDENTITY_MANAGER_NAME, namespace=settings.ray_namespace, get_if_exists=True,
        resources=HEAD_ONLY,
    ).remote(settings)
    # The WorkerManager holds the IdentityManager's handle: a named actor whose last handle is
    # dropped is garbage-collected, and the manager lives as long as the instance.
    manager = WorkerManager.options(  # type: ignore[attr-defined]
        name=MANAGER_NAME, namespace=settings.ray_namespace, get_if_exists=True,
        resources=HEAD_ONLY,
    ).remote(settings, identity)
    # One HTTP proxy, on the head: the API binds to one loopback address behind nginx.
    serve.start(proxy_location="HeadOnly",
                http_options={"host": settings.host, "port": settings.port})
    serve.run(build_app(settings, dashboard_url), name=settings.serve_app_name,
              route_prefix=route_prefix)
    import ray

    ray.get(manager.reconcile.remote())
    return manager


def shutdown(manager: Any | None) -> None:
    """Stop cameras, Serve and Ray, leaving no Ray processes behind."""
    import ray
    from ray import serve

    if manager is not None:
        try:
            ray.get(manager.stop_all.remote(), timeout=30)
        except Exception as exc:  # noqa: BLE001 - shutting down regardless
            log.warning("stopping cameras failed: %s", exc)
    try:
        serve.shutdown()
    finally:
        ray.shutdown()


def run_forever(settings: Settings, *, demo: bool = False) -> int:
    """The `iris up` command: start, print where to go, wait for Ctrl-C/SIGTERM, stop."""
    settings.root.mkdir(parents=True, exist_ok=True)
    pid_file = settings.root / "iris.pid"
    pid_file.write_text(str(os.getpid()))
    stop = threading.Event()

    def catch_signals() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())

    catch_signals()

    manager = None
    try:
        started = time.monotonic()
        if demo:  # before deploying, so the first reconcile starts it with the others
            from iris.demo import ensure_demo_camera

            ensure_demo_camera(settings)
        dashboard_url = start_ray(settings)
        catch_signals()  # ray.init installs its own SIGTERM handler that aborts the driver
        manager = deploy(settings, dashboard_url)
        base = f"http://{settings.host}:{settings.port}"
        print(f"Iris is up in {time.monotonic() - started:.1f}s", flush=True)
        print(f"  Web app:        {base}/", flush=True)
        print(f"  API:            {base}/api   (Authorization: Bearer <key>)", flush=True)
        print(f"  Health:         {base}/health", flush=True)
        if dashboard_url:
            print(f"  Ray dashboard:  {dashboard_url}", flush=True)
        key_note = "configured" if _key_file(settings) is None else str(_key_file(settings))
        print(f"  API key:        {settings.api_key}  ({key_note})", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        stop.wait()
        print("Stopping Iris…", flush=True)
    finally:
        shutdown(manager)
        pid_file.unlink(missing_ok=True)
    print("Iris stopped.", flush=True)
    return 0


def _key_file(settings: Settings) -> Path | None:
    path = settings.root / "api_key"
    return path if path.is_file() else None
