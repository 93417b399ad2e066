"""Integration tests share one local Ray cluster and one Serve instance per session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine

from iris import names
from iris.settings import Settings, load_settings
from tests.integration.spa_helpers import CHROMIUM, CHROMIUM_ARGS

API_KEY = "test-key-0123456789"
GATEWAY_SECRET = "test-gateway-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@dataclass
class IrisInstance:
    settings: Settings
    base_url: str
    manager: object

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"}

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30, **kwargs)


@contextmanager
def extra_instance(base: IrisInstance, name: str, **overrides: object) -> Iterator[IrisInstance]:
    """A second Iris in the same Ray cluster: its own namespace, Serve app and route prefix."""
    import ray
    from ray import serve

    from iris.runner import deploy
    from iris.serve.models import stop_models

    settings = load_settings(**{**base.settings.model_dump(), "ray_namespace": name,
                                "serve_app_name": name, **overrides})
    deploy(settings, route_prefix=f"/{name}")
    manager = ray.get_actor(names.WORKER_MANAGER, namespace=name)
    instance = IrisInstance(settings, f"{base.base_url}/{name}", manager)
    try:
        yield instance
    finally:
        ray.get(manager.stop_all.remote(), timeout=60)
        ray.kill(manager, no_restart=True)
        ray.kill(ray.get_actor(names.IDENTITY_MANAGER, namespace=name), no_restart=True)
        serve.delete(name)
        stop_models(settings)


@pytest.fixture(scope="session")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IrisInstance]:
    """A running Iris (embedded Ray, Serve, WorkerManager) on loopback ports away from defaults."""
    import ray

    from iris.runner import deploy, shutdown

    data_dir: Path = tmp_path_factory.mktemp("iris-data")
    settings = load_settings(
        data_dir=data_dir,
        port=free_port(),
        api_key=API_KEY,
        sso_gateway_secret=GATEWAY_SECRET,
        dashboard=False,
        ray_num_cpus=8,
        status_stale_seconds=5,
        segment_retention_seconds=20,
    )
    ray.init(address="local", namespace=settings.ray_namespace, num_cpus=8,
             include_dashboard=False, log_to_driver=False)
    deploy(settings)
    manager = ray.get_actor(names.WORKER_MANAGER, namespace=settings.ray_namespace)
    instance = IrisInstance(settings, f"http://127.0.0.1:{settings.port}", manager)
    try:
        yield instance
    finally:
        shutdown()


@pytest.fixture(scope="module")
def engine(iris: IrisInstance) -> Iterator[Engine]:
    """The instance's database, for seeding rows and checking what the API wrote."""
    from iris.db.engine import make_engine

    engine = make_engine(iris.settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def client(iris: IrisInstance) -> Iterator[httpx.Client]:
    """An authenticated client of the instance (modules override it to add set-up)."""
    with iris.client() as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, one per test module (Playwright drives it)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
