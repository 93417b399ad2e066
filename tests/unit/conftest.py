"""Unit tests run without Ray: any test that starts Ray fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ray = sys.modules.get("ray")
    if ray is not None:
        def refuse(*_args: object, **_kwargs: object) -> None:
            pytest.fail("a unit test tried to start Ray; move it to tests/integration")

        monkeypatch.setattr(ray, "init", refuse)
    yield
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        pytest.fail("a unit test left Ray running; move it to tests/integration")
