"""Unit tests run without Ray: any test that starts Ray fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


def _ray_running() -> bool:
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ray = sys.modules.get("ray")
    if ray is not None:
        def refuse(*_args: object, **_kwargs: object) -> None:
            pytest.fail("a unit test tried to start Ray; move it to tests/integration")

        monkeypatch.setattr(ray, "init", refuse)
    was_running = _ray_running()  # only when someone runs unit and integration tests mixed
    yield
    if _ray_running() and not was_running:
        pytest.fail("a unit test left Ray running; move it to tests/integration")
