"""/api/system without Ray: which process's onnxruntime names the ONNX providers."""

from __future__ import annotations

from pathlib import Path

import pytest

from iris.serve.api import create_api
from iris.serve.routes import system
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.runtime import FakeRuntime

AUTH = {"Authorization": "Bearer k"}


def providers_shown(tmp_path: Path, detector: dict, monkeypatch: pytest.MonkeyPatch,
                    asked: list[str]) -> list[str]:
    def local_providers() -> list[str]:
        asked.append("ingress")
        return ["IngressOwnProvider"]

    monkeypatch.setattr(system, "_onnx_providers", local_providers)
    runtime = FakeRuntime(detector=detector)
    app = create_api(load_settings(data_dir=tmp_path, api_key="k"), runtime)
    with api_client(app, headers=AUTH) as client:
        answer = client.get("/api/system")
    assert answer.status_code == 200, answer.text
    return answer.json()["backend"]["onnx_providers"]  # type: ignore[no-any-return]


def test_the_replicas_providers_are_shown_without_importing_onnxruntime_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    detector = {"available": True, "providers": ["CPUExecutionProvider"]}
    assert providers_shown(tmp_path, detector, monkeypatch, asked) == ["CPUExecutionProvider"]
    assert asked == []
    # A replica without weights has no session and says so with an empty list.
    assert providers_shown(tmp_path, {"available": False, "providers": []}, monkeypatch,
                           asked) == []
    assert asked == []


def test_an_unreachable_replica_falls_back_to_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    unreachable = {"available": False, "reason": "detector deployment not reachable"}
    assert providers_shown(tmp_path, unreachable, monkeypatch, asked) == ["IngressOwnProvider"]
    assert asked == ["ingress"]
