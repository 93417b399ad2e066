"""Route tests: the app factory over a real SQLite DB and a `FakeRuntime`, no Ray."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.runtime import FakeRuntime

KEY = "unit-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def make_app(tmp_path: Path, runtime: Any, **settings: Any) -> FastAPI:
    """The API of an instance under `tmp_path`, over `runtime`."""
    return create_api(load_settings(data_dir=tmp_path, api_key=KEY, **settings), runtime)


def make_client(tmp_path: Path, runtime: Any, **settings: Any) -> TestClient:
    """An authenticated client of `make_app`."""
    return api_client(make_app(tmp_path, runtime, **settings), headers=AUTH)


def engine_of(client: TestClient) -> Engine:
    """The database behind a client's app."""
    app: FastAPI = client.app  # type: ignore[assignment]
    return app.state.engine  # type: ignore[no-any-return]


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def client(tmp_path: Path, runtime: FakeRuntime) -> Iterator[TestClient]:
    with make_client(tmp_path, runtime) as test_client:
        yield test_client
