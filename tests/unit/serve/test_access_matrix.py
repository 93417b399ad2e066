"""Every route of the API × role: admin, viewer, and a viewer limited to camera A asking for B.

The table below is the contract of roles, one row per route of the app (taken from the app
itself, so a new route without a row fails `test_every_route_has_a_row_and_a_rule`):

- viewer: `W` it may watch (any answer but 401/403), `F` refused (403 with the reason);
- limited to A, asking for B: `H` B's data is hidden — the answer is exactly the one a missing
  id gets (status and text), so B's existence shows nowhere; `L` a list (only A's rows, see
  the list tests); `S` not camera data (the same as for any viewer); `F` refused.

Requests go through the app in-process (`AsgiCaller`: live streams included) over a real
SQLite database and a `FakeRuntime`; ids that would change data name rows that do not exist,
so the table's order does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import Session

from iris.db.keys import create_key
from iris.db.tables import RecordingSegment
from iris.messages import CameraState
from iris.serve.access import RULES
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.asgi import AsgiCaller, asgi_caller
from tests.support.factories import (
    camera_row,
    event_row,
    face_sample_row,
    identity_row,
    person_row,
    sighting_row,
)
from tests.support.runtime import FakeRuntime

KEY = "unit-admin-key"
A, B, MISSING = 1, 2, 999
W, F, H, L, S = "watch", "refused", "hidden", "list", "same"
DAY = "from=2026-01-02T00:00:00Z&to=2026-01-02T01:00:00Z"

#: (method, route) -> (a viewer, a viewer limited to A asking for B's data)
TABLE: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/api/cameras"): (W, L),
    ("POST", "/api/cameras"): (F, F),
    ("GET", "/api/cameras/detect/classes"): (W, S),
    ("GET", "/api/cameras/{camera_id}"): (W, H),
    ("PUT", "/api/cameras/{camera_id}"): (F, F),
    ("DELETE", "/api/cameras/{camera_id}"): (F, F),
    ("GET", "/api/cameras/{camera_id}/status"): (W, H),
    ("GET", "/api/events"): (W, H),
    ("GET", "/api/events/unreviewed"): (W, H),
    ("POST", "/api/events/review"): (F, F),
    ("POST", "/api/events/bulk-delete"): (F, F),
    ("POST", "/api/events/clear-all"): (F, F),
    ("GET", "/api/events/{event_id}"): (W, H),
    ("DELETE", "/api/events/{event_id}"): (F, F),
    ("GET", "/api/events/{event_id}/clip"): (W, H),
    ("GET", "/api/events/{event_id}/thumbnail"): (W, H),
    ("GET", "/api/recordings"): (W, H),
    ("GET", "/api/recordings/summary"): (W, H),
    ("GET", "/api/recordings/{camera_id}/clip"): (W, H),
    ("GET", "/api/recordings/{camera_id}/playlist.m3u8"): (W, H),
    ("GET", "/api/recordings/{camera_id}/segments/{segment_id}.ts"): (W, H),
    ("POST", "/api/identities/merge"): (F, F),
    ("POST", "/api/identities/bulk-delete"): (F, F),
    ("POST", "/api/identities/clear-all"): (F, F),
    ("GET", "/api/identities"): (W, L),
    ("GET", "/api/identities/analytics"): (W, L),
    ("GET", "/api/identities/sightings/{sighting_id}/thumbnail"): (W, H),
    ("GET", "/api/identities/{identity_id}"): (W, H),
    ("PUT", "/api/identities/{identity_id}"): (F, F),
    ("DELETE", "/api/identities/{identity_id}"): (F, F),
    ("GET", "/api/identities/{identity_id}/sightings"): (W, H),
    ("GET", "/api/identities/{identity_id}/events"): (W, H),
    ("GET", "/api/identities/{identity_id}/faces"): (W, H),
    ("GET", "/api/identities/{identity_id}/thumbnail"): (W, H),
    ("POST", "/api/identities/{identity_id}/split"): (F, F),
    ("GET", "/api/people"): (W, S),
    ("POST", "/api/people"): (F, F),
    ("POST", "/api/people/bulk-delete"): (F, F),
    ("POST", "/api/people/clear-all"): (F, F),
    ("GET", "/api/people/{person_id}"): (W, S),
    ("PUT", "/api/people/{person_id}"): (F, F),
    ("DELETE", "/api/people/{person_id}"): (F, F),
    ("POST", "/api/people/{person_id}/faces"): (F, F),
    ("GET", "/api/people/{person_id}/faces"): (W, S),
    ("GET", "/api/people/{person_id}/faces/{face_id}/image"): (W, S),
    ("DELETE", "/api/people/{person_id}/faces/{face_id}"): (F, F),
    ("GET", "/api/face-groups"): (W, L),
    ("GET", "/api/face-groups/samples/{sample_id}/thumbnail"): (W, H),
    ("POST", "/api/face-groups/enroll"): (F, F),
    ("POST", "/api/face-groups/label"): (F, F),
    ("POST", "/api/face-groups/clips"): (W, H),
    ("POST", "/api/face-groups/samples/bulk-delete"): (F, F),
    ("POST", "/api/face-groups/samples/clear-all"): (F, F),
    ("DELETE", "/api/face-groups/samples/{sample_id}"): (F, F),
    ("GET", "/api/live/{camera_id}/snapshot"): (W, H),
    ("GET", "/api/live/{camera_id}/stream"): (W, H),
    ("POST", "/api/live/{camera_id}/record/start"): (F, F),
    ("POST", "/api/live/{camera_id}/record/stop"): (F, F),
    ("GET", "/api/live/{camera_id}/mse/info"): (W, H),
    ("GET", "/api/live/{camera_id}/mse"): (W, H),
    ("GET", "/api/live/{camera_id}/detections"): (W, H),
    ("GET", "/api/live/{camera_id}/hls/index.m3u8"): (W, H),
    ("GET", "/api/live/{camera_id}/hls/close"): (W, H),
    ("POST", "/api/live/{camera_id}/hls/close"): (W, H),
    ("GET", "/api/live/{camera_id}/hls/{segment}"): (W, H),
    ("GET", "/api/system"): (W, L),
    ("GET", "/api/system/metrics"): (W, L),
    ("GET", "/api/system/keys"): (F, F),
    ("POST", "/api/system/keys"): (F, F),
    ("DELETE", "/api/system/keys/{key_ref}"): (F, F),
    ("GET", "/api/openapi.json"): (W, S),
    ("GET", "/api/docs"): (W, S),
    ("GET", "/api/docs/{asset}"): (W, S),
}

#: What fills each path parameter: A's rows, B's rows, rows that do not exist.
VALUES: dict[str, dict[str, Any]] = {
    which: {"camera_id": camera, "event_id": camera, "identity_id": camera,
            "sighting_id": camera, "sample_id": camera, "segment_id": camera,
            "person_id": 1, "face_id": 1, "segment": "seg00001.ts", "key_ref": "nobody",
            "asset": "swagger-ui.css"}
    for which, camera in (("own", A), ("other", B), ("missing", MISSING))
}
QUERIES = {
    "/api/events": "camera_id={camera_id}",
    "/api/events/unreviewed": "camera_id={camera_id}",
    "/api/recordings": "camera_id={camera_id}&" + DAY,
    "/api/recordings/summary": "camera_id={camera_id}&day=2026-01-02",
    "/api/recordings/{camera_id}/clip": DAY,
    "/api/recordings/{camera_id}/playlist.m3u8": DAY,
}
#: Bodies: a watch route's names the row asked for; a change's names nothing that exists.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/face-groups/clips"): lambda v: {"sample_ids": [v["sample_id"]]},
    ("POST", "/api/live/{camera_id}/record/stop"): {"started_at": "2026-01-02T00:00:00Z"},
    ("PUT", "/api/cameras/{camera_id}"): {"name": "renamed"},
    ("POST", "/api/events/review"): {"ids": [MISSING]},
    ("PUT", "/api/identities/{identity_id}"): {"notes": "x"},
    ("PUT", "/api/people/{person_id}"): {"notes": "x"},
    ("POST", "/api/identities/merge"): {"target_id": MISSING, "source_ids": [MISSING + 1]},
    ("POST", "/api/identities/{identity_id}/split"): {"sighting_ids": [MISSING]},
    ("POST", "/api/face-groups/enroll"): {"sample_ids": [MISSING], "name": "x"},
    ("POST", "/api/face-groups/label"): {"sample_ids": [MISSING], "label": "x"},
}
MUTATING_PARAMS_MISSING = {"PUT", "DELETE", "POST"}


@dataclass(frozen=True)
class World:
    caller: AsgiCaller
    headers: dict[str, dict[str, str]]
    routes: set[tuple[str, str]]

    def ask(self, who: str, method: str, route: str, which: str) -> Any:
        """`who` calls `route` with the rows of `which` (own, other, missing)."""
        values = VALUES[which]
        path = route.format_map(values)
        query = QUERIES.get(route, "").format_map(values)
        body = BODIES.get((method, route), {} if method in ("POST", "PUT") else None)
        if callable(body):
            body = body(values)
        return self.caller.request(method, f"{path}?{query}" if query else path,
                                   headers=self.headers[who], json_body=body)


def _seed(session: Session) -> None:
    for camera_id, name in ((A, "Porch"), (B, "Garage")):
        camera = camera_row(session, name=name)
        assert camera.id == camera_id
        event_row(session, camera_id=camera_id, clip_path=f"clips/{camera_id}/e.mp4")
        identity = identity_row(session)
        assert identity.id is not None
        sighting_row(session, identity_id=identity.id, camera_id=camera_id)
        face_sample_row(session, camera_id=camera_id, identity_id=identity.id, seed=camera_id)
        session.add(RecordingSegment(camera_id=camera_id, start=1767312000.0,
                                     end=1767312006.0, path=f"segments/{camera_id}/a.mp4"))
    person_row(session, faces=1)
    session.commit()


def app_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, route) the app serves under /api, hidden ones (docs) included."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith("/api"):
            found |= {(method, path) for method in route.methods or ()}
    schema = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert {r for r in schema if r[1].startswith("/api")} <= found
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root: Path = tmp_path_factory.mktemp("access")
    runtime = FakeRuntime(states={A: CameraState("online", 0.0, name="Porch"),
                                  B: CameraState("online", 0.0, name="Garage")})
    app = create_api(load_settings(data_dir=root, api_key=KEY), runtime)
    with Session(app.state.engine) as session:
        _seed(session)
        viewer = create_key(session, name="viewer", role="viewer").token
        porch = create_key(session, name="porch", role="viewer", cameras=[A]).token
    headers = {"admin": {"Authorization": f"Bearer {KEY}"},
               "viewer": {"Authorization": f"Bearer {viewer}"},
               "porch": {"Authorization": f"Bearer {porch}"}}
    with asgi_caller(app) as caller:
        yield World(caller, headers, app_routes(app))


def test_every_route_has_a_row_and_a_rule(world: World) -> None:
    assert world.routes - set(TABLE) == set(), "routes without a row in TABLE"
    assert set(TABLE) - world.routes == set(), "rows of TABLE for routes that are gone"
    assert world.routes - set(RULES) == set(), "routes without a rule in iris.serve.access"


@pytest.mark.parametrize(("method", "route"), sorted(TABLE))
def test_admin_may_call_every_route(world: World, method: str, route: str) -> None:
    which = "missing" if method in MUTATING_PARAMS_MISSING else "own"
    answer = world.ask("admin", method, route, which)
    assert answer.status not in (401, 403), (answer.status, answer.body[:200])


@pytest.mark.parametrize(("method", "route"), sorted(TABLE))
def test_viewer_watches_and_changes_nothing(world: World, method: str, route: str) -> None:
    expected = TABLE[(method, route)][0]
    answer = world.ask("viewer", method, route, "own" if expected == W else "missing")
    if expected == W:
        assert answer.status not in (401, 403), (answer.status, answer.body[:200])
    else:
        assert answer.status == 403, (answer.status, answer.body[:200])
        detail = answer.detail
        assert re.fullmatch(r"Viewers cannot [a-zA-Z ]+: this needs the admin role\.", detail)


@pytest.mark.parametrize(("method", "route"), sorted(TABLE))
def test_viewer_limited_to_a_never_learns_of_b(world: World, method: str, route: str) -> None:
    expected = TABLE[(method, route)][1]
    if expected == F:
        assert world.ask("porch", method, route, "missing").status == 403
        return
    own = world.ask("porch", method, route, "own")
    assert own.status not in (401, 403), (own.status, own.body[:200])
    # A's data answers the limited viewer as it answers any viewer.
    assert own.status == world.ask("viewer", method, route, "own").status
    if expected == H:
        other = world.ask("porch", method, route, "other")
        missing = world.ask("porch", method, route, "missing")
        assert (other.status, other.body) == (missing.status, missing.body), (
            other.status, other.body[:200], missing.body[:200])
        # …and B's data is really there for anyone who may see it.
        assert world.ask("viewer", method, route, "other").body != missing.body or (
            method, route) in SAME_FOR_ANYONE


#: Routes whose answer for B reads like the missing one even unlimited (nothing recorded, no
#: frame yet): the limited viewer's equality above proves nothing hidden leaks there either.
SAME_FOR_ANYONE = {
    ("GET", "/api/recordings/{camera_id}/clip"),
    ("GET", "/api/recordings/{camera_id}/playlist.m3u8"),
    ("GET", "/api/live/{camera_id}/hls/{segment}"),
}
