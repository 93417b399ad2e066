"""`iris up`: embedded (or cluster) Ray, the WorkerManager, the Serve app; clean shutdown."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from iris import names
from iris.layout import Layout
from iris.settings import (
    API_KEY_FILE,
    GATEWAY_SECRET_FILE,
    Settings,
    ensure_api_key,
    ensure_gateway_secret,
)

#: Ray runs only with its token authentication: every way Iris starts or joins Ray sets this.
RAY_AUTH_ENV = {"RAY_AUTH_MODE": "token"}
#: The gateway's proof as an nginx line, kept beside the secret for `include` in the vhost.
GATEWAY_INCLUDE_FILE = "nginx-gateway.conf"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: How long `iris up` waits for its port. An Iris killed while clients were connected leaves
#: the port in TIME_WAIT for 60 s (Linux), and Serve's proxy binds without SO_REUSEADDR:
#: without the wait a restart after a crash failed with "Failed to bind" until then.
PORT_WAIT_S = 75.0

log = logging.getLogger("iris.up")


# On one box, CPU reservations only decide what may start: the Detector (1), Embedder (0.5)
# and ingress (0.5) alone take a 2-core machine's 2 logical CPUs, and cameras (0.25 each) would
# wait forever. Embedded Ray therefore counts at least this many.
LOCAL_MIN_CPUS = 8


def local_num_cpus(settings: Settings, cores: int | None = None) -> int:
    """Logical CPUs for embedded Ray: the setting, else the core count but at least 8."""
    if settings.ray_num_cpus:
        return settings.ray_num_cpus
    return max(cores if cores is not None else os.cpu_count() or 1, LOCAL_MIN_CPUS)


class UnsafeSettings(RuntimeError):
    """A combination of settings Iris refuses to start with (the message says why)."""


def check_exposure(settings: Settings) -> None:
    """Refuse to serve an unauthenticated API on anything but loopback."""
    if not settings.auth_required and settings.host not in LOOPBACK_HOSTS:
        raise UnsafeSettings(
            f"refusing to listen on {settings.host} with auth_required: false — anyone who "
            "can reach that address could watch and delete every recording. Bind to "
            "127.0.0.1 (behind nginx) or turn authentication on.")


def check_notifications(settings: Settings) -> None:
    """Refuse an `mqtt_url` or webhook Iris could never use, before anything starts.

    Checked in a child process: the notification code is large (its payloads are the API's
    schemas, its cameras carry OpenCV zones), and the `iris up` driver, which lives as long as
    Iris does, would hold it for nothing: 55 MiB (bench/idle_bench.py).
    """
    if not (settings.mqtt_url or settings.webhooks):
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as child:
        refusal = child.submit(notify_settings_refusal, settings).result()
    if refusal:
        raise UnsafeSettings(refusal)


def notify_settings_refusal(settings: Settings) -> str | None:
    """Why these notification settings can never work, or None when they can."""
    from iris.notify import NotifyConfigError, check_notify_settings

    try:
        check_notify_settings(settings)
    except NotifyConfigError as exc:
        return str(exc)
    return None


def wait_for_port(host: str, port: int, timeout_s: float = PORT_WAIT_S) -> None:
    """Return once ``host:port`` can be bound the way Serve's proxy binds it.

    Raises `UnsafeSettings` when it cannot be within ``timeout_s``, or cannot be at all.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + timeout_s
    waiting = False
    while True:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.bind((host, port))
            return
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise UnsafeSettings(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        if time.monotonic() >= deadline:
            raise UnsafeSettings(
                f"{host}:{port} is in use: another program listens there (set `port`), or the "
                f"connections of an Iris that stopped did not close within {timeout_s:.0f} s")
        if not waiting:
            print(f"waiting for {host}:{port}: the connections of an Iris that stopped are "
                  "still closing…", flush=True)
            waiting = True
        time.sleep(0.5)


def require_ray_token_auth(environ: dict[str, str] | None = None) -> None:
    """Turn Ray's token authentication on for this process and the Ray processes it starts."""
    env = os.environ if environ is None else environ
    mode = env.get("RAY_AUTH_MODE", "token").strip().lower()
    if mode != "token":
        raise UnsafeSettings(
            f"RAY_AUTH_MODE={mode}: Iris runs Ray only with token authentication (anyone who "
            "reaches an unauthenticated Ray port can run code as this user). Unset it.")
    env.update(RAY_AUTH_ENV)
    if environ is None and "ray._raylet" in sys.modules:
        # Ray read its config when it was imported: make it see the mode now, as Ray does.
        from ray._raylet import Config  # type: ignore[attr-defined]

        Config.initialize("")


def ray_token_path() -> Path:
    """Where Ray keeps its token (`RAY_AUTH_TOKEN_PATH`, else ~/.ray/auth_token)."""
    configured = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return Path(configured) if configured else Path.home() / ".ray" / "auth_token"


def start_ray(settings: Settings, *, dashboard: bool | None = None) -> str | None:
    """Start embedded Ray (or join the configured cluster); returns the dashboard URL."""
    require_ray_token_auth()
    import ray

    with_dashboard = settings.dashboard if dashboard is None else dashboard
    kwargs: dict[str, Any] = {"namespace": settings.ray_namespace, "log_to_driver": True}
    if settings.ray_address:
        context = ray.init(address=settings.ray_address, **kwargs)
    else:
        from iris.ray_tuning import apply_one_box_env

        apply_one_box_env()  # before ray.init: the Ray processes it starts inherit them
        context = ray.init(
            address="local",
            include_dashboard=with_dashboard,
            dashboard_host="127.0.0.1",
            dashboard_port=settings.dashboard_port,
            num_cpus=local_num_cpus(settings),
            **kwargs,
        )
    token = ray_token_path()
    if token.is_file():
        os.chmod(token, 0o600)
    # The context ray.init returns knows the dashboard; ray.get_runtime_context() does not.
    url = getattr(context, "dashboard_url", None) or None
    if url and not url.startswith("http"):
        url = f"http://{url}"
    return url if with_dashboard or settings.ray_address else None


def deploy(settings: Settings, dashboard_url: str | None = None, route_prefix: str = "/") -> None:
    """Create the instance's actors, deploy the Serve app, start the cameras (iris/deploy.py).

    The work runs in a one-off Ray actor, killed after it, so the driver that then only waits
    for Ctrl-C never loads the code of the actors, the API or the models: that was 60 MiB of
    an idle Iris's memory (bench/idle_bench.py). The driver holds no handle of them either
    (a handle loads its actor's class); `shutdown` ends them the same way.
    """
    in_one_off_actor("deploy_instance", settings, dashboard_url, route_prefix)


def shutdown(stop_timeout_s: float = 30.0) -> None:
    """Stop cameras (within `stop_timeout_s`), Serve and Ray, leaving no Ray processes behind."""
    import ray

    try:
        if ray.is_initialized():
            namespace = ray.get_runtime_context().namespace
            in_one_off_actor("stop_instance", namespace, stop_timeout_s)
    except Exception as exc:  # noqa: BLE001 - shutting down regardless
        log.warning("stopping Iris's actors failed: %s", exc)
    finally:
        ray.shutdown()


class OneOff:
    """The actor `in_one_off_actor` runs in (a task's pooled worker would stay with it all)."""

    def call(self, function: str, *args: Any) -> Any:
        from iris import deploy  # in this worker only: the driver never loads it

        return getattr(deploy, function)(*args)


def in_one_off_actor(function: str, *args: Any) -> Any:
    """`iris.deploy.<function>(*args)` in a fresh actor on the head, killed once it returned."""
    import ray

    actor: Any = ray.remote(num_cpus=0)(OneOff)
    worker = actor.options(resources=names.HEAD_ONLY).remote()
    try:
        return ray.get(worker.call.remote(function, *args))
    finally:
        ray.kill(worker, no_restart=True)


def prepare_data_root(settings: Settings) -> None:
    """The data root is private to Iris: 0700, and new files under it 0600 (umask 077)."""
    os.umask(0o077)
    settings.root.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.root, 0o700)


def write_gateway_include(settings: Settings) -> Path:
    """`<data_dir>/nginx-gateway.conf`: the line the nginx vhost includes to prove itself."""
    assert settings.sso_gateway_secret
    path = settings.root / GATEWAY_INCLUDE_FILE
    line = f'proxy_set_header X-Iris-Gateway "{settings.sso_gateway_secret}";\n'
    if not path.is_file() or path.read_text() != line:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(line)
    os.chmod(path, 0o600)
    return path


def run_forever(settings: Settings, *, demo: bool = False) -> int:
    """The `iris up` command: start, print where to go, wait for Ctrl-C/SIGTERM, stop.

    Raises `UnsafeSettings` (before anything starts) for settings Iris will not run with.
    """
    check_exposure(settings)
    check_notifications(settings)
    prepare_data_root(settings)
    settings = ensure_gateway_secret(ensure_api_key(settings))
    write_gateway_include(settings)
    # Before Ray and the signal handlers: Ctrl-C during a download exits, the .part resumes.
    from iris.models.fetch_models import ensure_models
    from iris.models.fetch_progress import progress_for

    ensure_models(settings, progress=progress_for())
    pid_file = Layout(settings.root).pid_file
    pid_file.write_text(str(os.getpid()))
    stop = threading.Event()

    def catch_signals() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())

    catch_signals()

    try:
        started = time.monotonic()
        if demo:  # before deploying, so the first reconcile starts it with the others
            from iris.demo import ensure_demo_camera

            ensure_demo_camera(settings)
        wait_for_port(settings.host, settings.port)
        dashboard_url = start_ray(settings)
        catch_signals()  # ray.init installs its own SIGTERM handler that aborts the driver
        deploy(settings, dashboard_url)
        print(f"Iris is up in {time.monotonic() - started:.1f}s", flush=True)
        for line in banner(settings, dashboard_url):
            print(line, flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        stop.wait()
        print("Stopping Iris…", flush=True)
    finally:
        shutdown(settings.stop_timeout_seconds)
        pid_file.unlink(missing_ok=True)
    print("Iris stopped.", flush=True)
    return 0


def banner(settings: Settings, dashboard_url: str | None) -> list[str]:
    """Where to go and where the credentials are: never a secret itself."""
    base = f"http://{settings.host}:{settings.port}"
    key_file = settings.root / API_KEY_FILE
    key_note = str(key_file) if key_file.is_file() else "as configured (IRIS_API_KEY)"
    lines = [
        f"  Web app:        {base}/",
        f"  API:            {base}/api   (Authorization: Bearer <key>)",
        f"  Health:         {base}/health",
        f"  API key:        in {key_note}",
    ]
    if not settings.auth_required:
        lines.append("  Auth:           off (auth_required: false; loopback only)")
    secret_file = settings.root / GATEWAY_SECRET_FILE
    if settings.sso_gateway_secret:
        where = str(secret_file) if secret_file.is_file() else "as configured"
        lines.append(f"  SSO gateway:    secret {where}; nginx: "
                     f"include {settings.root / GATEWAY_INCLUDE_FILE}; "
                     "(configs/nginx/iris.conf, location /)")
    if dashboard_url:
        lines.append(f"  Ray dashboard:  {dashboard_url}   (token: `ray get-auth-token`, "
                     f"file {ray_token_path()})")
    elif not settings.ray_address:
        lines.append("  Ray dashboard:  off (`dashboard: true` or IRIS_DASHBOARD=true starts it)")
    return lines
