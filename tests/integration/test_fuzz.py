"""Property-based fuzzing of every route in the OpenAPI schema: bad input never gets a 5xx.

Schemathesis reads the schema from `/api/openapi.json` (bearer key) and sends generated valid
and invalid requests through the real Serve HTTP proxy of an isolated second Iris (its own DB,
data root, namespace and route prefix), so deletes and clear-alls touch nobody else's data. A
seeded world (a camera, events with a real clip and thumbnail, a person with a face, an identity
with a sighting, a face sample) lets the boundary id 1 get past the 404s.

Bounded and repeatable: a fixed number of examples per operation plus schemathesis' coverage
phase (boundary values, wrong types, missing fields), a fixed seed, no example database and no
cache of earlier runs. Numbers are drawn now and then from small dictionaries of edge values
(ids past 64 bits, the largest floats), which random generation reaches too rarely to rely on.
Reads run before writes, so the seeded media is still there when it is read.

- `st run` runs in its own process (schemathesis' pytest plugin does not support pytest 9.2);
  its JSON report says which operations it tested and what failed.
- Cameras are only ever created or updated disabled (fuzz_hooks.py): no worker starts, so a
  generated `rtsp_url` is never dialled. The test checks afterwards that none got enabled.
- The MJPEG stream never ends: schemathesis would wait on its body, so it is fuzzed here with
  schemathesis' strategy for it, reading only the status line.
- A 5xx fails, except the few the contract names for a route (e.g. 503 when the face
  recognizer is unavailable): those are the documented answer, not a crash.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlmodel import Session, col, select

from iris.db.engine import make_engine
from iris.db.tables import Camera, Event, FaceEmbedding, FaceSample, Identity, Person, Sighting
from iris.db.types import vector_to_blob
from tests.integration.conftest import IrisInstance, extra_instance
from tests.support.media import make_clip

REPO = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).with_name("fuzz_hooks.py")
EXAMPLES_PER_OPERATION = 25
SEED = 20_240_601
CALL_TIMEOUT_S = 30
RUN_TIMEOUT_S = 240
STREAM_PATH = "/api/live/{camera_id}/stream"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
NOT_5XX = ["2xx", "3xx", "4xx"]
DICTIONARY_PROBABILITY = 0.2
# Around the 32- and 64-bit limits of INTEGER columns, and floats at the ends of their range.
EDGE_VALUES = {
    "integer": [0, -1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1],
    "number": [-0.0, 5e-324, 1e-9, 1e308, -1e308],
}

# 5xx answers the contract (api-reference.md) names for a route; any other 5xx is a bug.
CONTRACT_5XX: dict[tuple[str, str], list[str]] = {
    # "503 recognizer unavailable" (this instance ships no face models).
    ("POST", "/api/people/{person_id}/faces"): ["503"],
    # "returns 503 if HLS is disabled or at capacity".
    ("GET", "/api/live/{camera_id}/hls/index.m3u8"): ["503"],
    # "auto split requires the re-ID core (returns 501 / 500 if unavailable)": never a 500 here.
    ("POST", "/api/identities/{identity_id}/split"): ["501"],
}


# ----------------------------------------------------------------------------- the world
def _jpeg(width: int = 64, height: int = 64) -> bytes:
    image = np.full((height, width, 3), 90, np.uint8)
    cv2.rectangle(image, (8, 8), (width - 8, height - 8), (200, 180, 40), -1)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def seed_world(instance: IrisInstance) -> None:
    """One of each thing the routes serve, with its files on disk (and two without)."""
    root = instance.settings.root
    with instance.client() as client:
        created = client.post("/api/cameras", json={"name": "fuzz", "enabled": False,
                                                    "rtsp_url": "rtsp://127.0.0.1:9/fuzz"})
        assert created.status_code == 201, created.text
        camera_id = int(created.json()["id"])
    make_clip(root / "clips" / "fuzz.mp4", seconds=1, fps=10, size=(160, 120), audio=False)
    (root / "thumbs").mkdir(parents=True, exist_ok=True)
    for name in ("event", "sighting", "face", "sample"):
        (root / "thumbs" / f"{name}.jpg").write_bytes(_jpeg())
    face = np.random.default_rng(SEED).standard_normal(512).astype(np.float32)
    face /= np.linalg.norm(face)
    with Session(make_engine(instance.settings.resolved_database_url)) as session:
        person = Person(name="Fuzz Person")
        identity = Identity(name="Fuzz", is_named=True, first_seen=T0, last_seen=T0,
                            num_sightings=1, total_seconds=5.0)
        session.add_all([person, identity])
        session.flush()
        assert person.id is not None and identity.id is not None
        event = Event(camera_id=camera_id, ts=T0, end_ts=T0 + timedelta(seconds=5), duration=5,
                      clip_path="clips/fuzz.mp4", thumb_path="thumbs/event.jpg",
                      person_id=person.id, person_name=person.name, identity_id=identity.id)
        session.add(event)
        session.flush()
        sighting = Sighting(identity_id=identity.id, camera_id=camera_id, event_id=event.id,
                            ts=T0, end_ts=T0 + timedelta(seconds=5),
                            thumb_path="thumbs/sighting.jpg")
        session.add(sighting)
        session.flush()
        identity.rep_sighting_id = sighting.id
        session.add_all([
            identity,
            FaceEmbedding(person_id=person.id, vector=vector_to_blob(face),
                          image_path="thumbs/face.jpg"),
            FaceSample(camera_id=camera_id, identity_id=identity.id, sighting_id=sighting.id,
                       ts=T0 + timedelta(seconds=1), crop_path="thumbs/sample.jpg",
                       embedding=vector_to_blob(face), quality=0.9),
            # No files: the "missing on disk" and "has no clip" answers.
            Event(camera_id=camera_id, ts=T0 - timedelta(hours=1),
                  clip_path="clips/gone.mp4", thumb_path="thumbs/gone.jpg"),
            Event(camera_id=camera_id, ts=T0 - timedelta(hours=2), kind="manual"),
        ])
        session.commit()


@pytest.fixture(scope="module")
def fuzz_iris(iris: IrisInstance, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[IrisInstance]:
    """A second Iris with its own data root, seeded, for the whole fuzz run."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    with extra_instance(iris, "fuzz", data_dir=data_dir) as instance:
        seed_world(instance)
        yield instance


# ----------------------------------------------------------------------------- st run
def _toml(value: Any) -> str:
    return json.dumps(value)  # strings, numbers, booleans and lists of them read the same


def write_config(instance: IrisInstance, path: Path) -> Path:
    """schemathesis.toml: target, key, bounds, edge values, the contract's 5xx per route."""
    lines = [
        f"seed = {SEED}",
        f"base-url = {_toml(instance.base_url)}",
        f"hooks = {_toml(str(HOOKS))}",
        f"request-timeout = {CALL_TIMEOUT_S}",
        "workers = 1",
        "[headers]",
        *(f"{_toml(name)} = {_toml(value)}" for name, value in instance.headers.items()),
        "[generation]",
        f"max-examples = {EXAMPLES_PER_OPERATION}",
        'database = "none"',
        "[phases.stateful]",
        "enabled = false",
        "[cache]",  # no replays of an earlier run's requests: each run stands alone
        "enabled = false",
    ]
    for kind, values in EDGE_VALUES.items():
        lines += [
            f"[dictionaries.edge-{kind}]",
            f"values = {_toml(values)}",
            f"[generation.dictionaries.{kind}]",
            f'dictionary = "edge-{kind}"',
            f"probability = {DICTIONARY_PROBABILITY}",
        ]
    for (method, route), codes in CONTRACT_5XX.items():
        lines += [
            "[[operations]]",
            f"include-method = {_toml(method)}",
            f"include-path = {_toml(route)}",
            f"checks.not_a_server_error.expected-statuses = {_toml(NOT_5XX + codes)}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_schemathesis(instance: IrisInstance, folder: Path, *filters: str) -> dict[str, Any]:
    """`st run` over the operations `filters` select; its JSON report (asserted complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(instance, folder / "schemathesis.toml")
    report = folder / "report.json"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", f"{instance.base_url}/api/openapi.json",
        "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
        "--exclude-path", STREAM_PATH, "--report", "json", "--report-json-path", str(report),
        *filters,
    ]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT_S, check=False)
    output = (result.stdout + result.stderr)[-8000:]
    assert report.is_file(), f"st run wrote no report (exit {result.returncode}):\n{output}"
    data: dict[str, Any] = json.loads(report.read_text())
    assert data["complete"] and data["stop_reason"] == "completed", output
    assert not data["errors"], output
    assert not data["failures"], output
    assert result.returncode == 0, output
    return data


def seeded_camera(instance: IrisInstance) -> int:
    with Session(make_engine(instance.settings.resolved_database_url)) as session:
        camera = session.exec(select(Camera).where(Camera.name == "fuzz")).first()
    assert camera is not None and camera.id is not None
    return camera.id


def schema_operations(instance: IrisInstance) -> set[tuple[str, str]]:
    with instance.client() as client:
        response = client.get("/api/openapi.json")
    assert response.status_code == 200, response.text
    return {(method.upper(), path) for path, methods in response.json()["paths"].items()
            for method in methods}


def test_reads_never_answer_5xx(fuzz_iris: IrisInstance, tmp_path: Path) -> None:
    """Every GET (bar the endless MJPEG stream, fuzzed below) against the seeded world."""
    expected = {op for op in schema_operations(fuzz_iris)
                if op[0] == "GET" and op[1] != STREAM_PATH}
    report = run_schemathesis(fuzz_iris, tmp_path, "--include-method", "GET")
    assert report["operations"]["tested"] == len(expected) > 20, report["operations"]


def test_mjpeg_stream_never_answers_5xx(fuzz_iris: IrisInstance) -> None:
    """The stream route under generated ids and ?fps=, reading only the status line."""
    schema = schemathesis.openapi.from_url(f"{fuzz_iris.base_url}/api/openapi.json",
                                           headers=fuzz_iris.headers, timeout=CALL_TIMEOUT_S)
    operation = schema[STREAM_PATH]["GET"]
    seen: set[int] = set()

    @settings(max_examples=EXAMPLES_PER_OPERATION * 2, derandomize=True, database=None,
              deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    def stream_status(case: schemathesis.Case) -> None:
        kwargs = case.as_transport_kwargs(base_url=fuzz_iris.base_url,
                                          headers=fuzz_iris.headers)
        with requests.request(**kwargs, stream=True, timeout=CALL_TIMEOUT_S) as response:
            seen.add(response.status_code)
            assert response.status_code < 500, f"{response.status_code}: {case.as_curl_command()}"

    stream_status()
    assert 422 in seen, f"no rejected input was generated: {seen}"
    # The seeded camera streams (its "no signal" frame); meanwhile ?fps=0 is still refused.
    camera_id = seeded_camera(fuzz_iris)
    with httpx.Client(base_url=fuzz_iris.base_url, headers=fuzz_iris.headers,
                      timeout=CALL_TIMEOUT_S) as client:
        with client.stream("GET", f"/api/live/{camera_id}/stream", params={"fps": 1}) as live:
            assert live.status_code == 200
            assert live.headers["content-type"].startswith("multipart/x-mixed-replace")
            assert client.get(f"/api/live/{camera_id}/stream",
                              params={"fps": 0}).status_code == 422


def test_writes_never_answer_5xx(fuzz_iris: IrisInstance, tmp_path: Path) -> None:
    """Every POST/PUT/DELETE, clear-alls included; last, as they take the seeded world apart."""
    expected = {op for op in schema_operations(fuzz_iris) if op[0] != "GET"}
    report = run_schemathesis(fuzz_iris, tmp_path, "--exclude-method", "GET")
    assert report["operations"]["tested"] == len(expected) > 20, report["operations"]
    with Session(make_engine(fuzz_iris.settings.resolved_database_url)) as session:
        enabled = session.exec(select(Camera).where(col(Camera.enabled).is_(True))).all()
    assert not enabled, f"fuzzing enabled cameras (their URLs would be dialled): {enabled}"
