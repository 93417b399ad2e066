"""What each role may do, route by route, and which cameras a principal may reach.

One table (`RULES`) says for every route of the API whether a viewer may call it ("watch":
list, read, stream — HLS's playlist starts a session, and closing one's own session is
watching too) or only an admin ("change": every mutation, recording start/stop, API keys).
A route without a rule is admin-only, and tests/unit/serve/test_access_matrix.py fails until
it gets one. `check_access` runs for every /api request (from `deps.require_auth`), after
routing and before any parameter is read.

Camera scope has two halves: rows are filtered in the database (`iris.db.scope`, through
the engine `deps.get_engine` hands out), and a `{camera_id}` in the path that the principal
may not see is refused here, before the route runs, with the 404 the route gives a missing
camera — so another camera's existence is never revealed. `ScopedRuntime` limits what the
runtime reports (worker states) the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, status

from iris.db.scope import CameraScope
from iris.messages import CameraState
from iris.serve.auth import Principal
from iris.serve.runtime import Runtime

CAMERA_NOT_FOUND = "Camera not found."
PARAM = re.compile(r"\{([^}:]+)[^}]*\}")


@dataclass(frozen=True)
class Rule:
    """Whether a viewer may call a route; the refusal it reads otherwise; and, for a route
    that names a camera in its path but never looks the camera up, the 404 a missing one
    gets there."""

    viewer: bool
    refusal: str = ""
    hidden_camera: str = CAMERA_NOT_FOUND


WATCH = Rule(viewer=True)


def change(what: str) -> Rule:
    """An admin-only route; a viewer reads `Viewers cannot <what>: this needs the admin role.`"""
    return Rule(viewer=False, refusal=f"Viewers cannot {what}: this needs the admin role.")


CAMERAS, EVENTS = change("change cameras"), change("delete events")
IDENTITIES, PEOPLE = change("change identities"), change("change people")
FACES, RECORD = change("change face groups"), change("start or stop recordings")
KEYS = change("manage API keys")
REVIEW = change("review events")

#: (method, path template) -> rule, for every route under /api.
RULES: dict[tuple[str, str], Rule] = {
    # cameras
    ("GET", "/api/cameras"): WATCH,
    ("POST", "/api/cameras"): CAMERAS,
    ("GET", "/api/cameras/detect/classes"): WATCH,
    ("GET", "/api/cameras/{camera_id}"): WATCH,
    ("PUT", "/api/cameras/{camera_id}"): CAMERAS,
    ("DELETE", "/api/cameras/{camera_id}"): CAMERAS,
    ("GET", "/api/cameras/{camera_id}/status"): WATCH,
    # events and their media
    ("GET", "/api/events"): WATCH,
    ("GET", "/api/events/unreviewed"): WATCH,
    ("POST", "/api/events/review"): REVIEW,
    ("POST", "/api/events/bulk-delete"): EVENTS,
    ("POST", "/api/events/clear-all"): EVENTS,
    ("GET", "/api/events/{event_id}"): WATCH,
    ("DELETE", "/api/events/{event_id}"): EVENTS,
    ("GET", "/api/events/{event_id}/clip"): WATCH,
    ("GET", "/api/events/{event_id}/thumbnail"): WATCH,
    # the recording store (exports are reads)
    ("GET", "/api/recordings"): WATCH,
    ("GET", "/api/recordings/summary"): WATCH,
    ("GET", "/api/recordings/{camera_id}/clip"): WATCH,
    ("GET", "/api/recordings/{camera_id}/playlist.m3u8"): WATCH,
    ("GET", "/api/recordings/{camera_id}/segments/{segment_id}.ts"):
        Rule(viewer=True, hidden_camera="Segment not found."),
    # identities
    ("POST", "/api/identities/merge"): IDENTITIES,
    ("POST", "/api/identities/bulk-delete"): IDENTITIES,
    ("POST", "/api/identities/clear-all"): IDENTITIES,
    ("GET", "/api/identities"): WATCH,
    ("GET", "/api/identities/analytics"): WATCH,
    ("GET", "/api/identities/sightings/{sighting_id}/thumbnail"): WATCH,
    ("GET", "/api/identities/{identity_id}"): WATCH,
    ("PUT", "/api/identities/{identity_id}"): IDENTITIES,
    ("DELETE", "/api/identities/{identity_id}"): IDENTITIES,
    ("GET", "/api/identities/{identity_id}/sightings"): WATCH,
    ("GET", "/api/identities/{identity_id}/events"): WATCH,
    ("GET", "/api/identities/{identity_id}/faces"): WATCH,
    ("GET", "/api/identities/{identity_id}/thumbnail"): WATCH,
    ("POST", "/api/identities/{identity_id}/split"): IDENTITIES,
    # people (the enrolled faces)
    ("GET", "/api/people"): WATCH,
    ("POST", "/api/people"): PEOPLE,
    ("POST", "/api/people/bulk-delete"): PEOPLE,
    ("POST", "/api/people/clear-all"): PEOPLE,
    ("GET", "/api/people/{person_id}"): WATCH,
    ("PUT", "/api/people/{person_id}"): PEOPLE,
    ("DELETE", "/api/people/{person_id}"): PEOPLE,
    ("POST", "/api/people/{person_id}/faces"): PEOPLE,
    ("GET", "/api/people/{person_id}/faces"): WATCH,
    ("GET", "/api/people/{person_id}/faces/{face_id}/image"): WATCH,
    ("DELETE", "/api/people/{person_id}/faces/{face_id}"): PEOPLE,
    # face groups (clips is a read with a body)
    ("GET", "/api/face-groups"): WATCH,
    ("GET", "/api/face-groups/samples/{sample_id}/thumbnail"): WATCH,
    ("POST", "/api/face-groups/enroll"): FACES,
    ("POST", "/api/face-groups/label"): FACES,
    ("POST", "/api/face-groups/clips"): WATCH,
    ("POST", "/api/face-groups/samples/bulk-delete"): FACES,
    ("POST", "/api/face-groups/samples/clear-all"): FACES,
    ("DELETE", "/api/face-groups/samples/{sample_id}"): FACES,
    # live
    ("GET", "/api/live/{camera_id}/snapshot"): WATCH,
    ("GET", "/api/live/{camera_id}/stream"): WATCH,
    ("POST", "/api/live/{camera_id}/record/start"): RECORD,
    ("POST", "/api/live/{camera_id}/record/stop"): RECORD,
    ("GET", "/api/live/{camera_id}/mse/info"): WATCH,
    ("GET", "/api/live/{camera_id}/mse"): WATCH,
    ("GET", "/api/live/{camera_id}/detections"): WATCH,
    ("GET", "/api/live/{camera_id}/hls/index.m3u8"): WATCH,
    ("GET", "/api/live/{camera_id}/hls/close"): WATCH,
    ("POST", "/api/live/{camera_id}/hls/close"): WATCH,
    ("GET", "/api/live/{camera_id}/hls/{segment}"):
        Rule(viewer=True, hidden_camera="Segment not found."),
    # system
    ("GET", "/api/system"): WATCH,
    ("GET", "/api/system/metrics"): WATCH,
    ("GET", "/api/system/keys"): KEYS,
    ("POST", "/api/system/keys"): KEYS,
    ("DELETE", "/api/system/keys/{key_ref}"): KEYS,
    ("GET", "/api/openapi.json"): WATCH,
    ("GET", "/api/docs"): WATCH,
    ("GET", "/api/docs/{asset}"): WATCH,
}
UNLISTED = Rule(viewer=False, refusal="This needs the admin role.")


@dataclass(frozen=True)
class _Template:
    path: str
    params: frozenset[str]


def _templates(rules: Mapping[tuple[str, str], Rule]
               ) -> dict[tuple[str, frozenset[str]], list[_Template]]:
    index: dict[tuple[str, frozenset[str]], list[_Template]] = {}
    for method, path in rules:
        params = frozenset(PARAM.findall(path))
        index.setdefault((method, params), []).append(_Template(path, params))
    return index


_INDEX = _templates(RULES)


def route_template(method: str, path: str, path_params: Mapping[str, Any]) -> str | None:
    """The `RULES` template the router matched: the one that, filled with the request's own
    path parameters, gives its path (so `/hls/close` is never taken for `/hls/{segment}`)."""
    key = ("GET" if method == "HEAD" else method, frozenset(path_params))
    values = {name: str(value) for name, value in path_params.items()}
    for template in _INDEX.get(key, []):
        if template.path.format_map(values) == path:
            return template.path
    return None


def rule_for(method: str, path: str, path_params: Mapping[str, Any]) -> Rule:
    """The rule of the route a request reached (`UNLISTED`, admin-only, when there is none)."""
    template = route_template(method, path, path_params)
    if template is None:
        return UNLISTED
    return RULES[(("GET" if method == "HEAD" else method), template)]


def check_access(request: Request, principal: Principal) -> None:
    """403 when the principal's role may not call this route; 404 when its path names a
    camera the principal may not see."""
    path = request.url.path
    root = request.scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root):]
    rule = rule_for(request.method, path, request.path_params)
    if principal.role != "admin" and not rule.viewer:
        raise HTTPException(status.HTTP_403_FORBIDDEN, rule.refusal)
    if principal.cameras is not None and "camera_id" in request.path_params:
        raw = str(request.path_params["camera_id"])
        # Not a number: the route's own validation answers 422, as for anyone.
        if raw.isdigit() and int(raw) not in principal.cameras:
            raise HTTPException(status.HTTP_404_NOT_FOUND, rule.hidden_camera)


class ScopedRuntime:
    """A runtime as a principal limited to some cameras sees it: only their worker states.

    Everything else is the runtime's own (camera operations are reached only through routes
    whose camera `check_access` has already allowed).
    """

    def __init__(self, runtime: Runtime, cameras: frozenset[int]) -> None:
        self._runtime = runtime
        self._cameras = cameras

    def worker_states(self) -> dict[int, CameraState]:
        return {camera_id: state for camera_id, state in self._runtime.worker_states().items()
                if camera_id in self._cameras}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)


def scoped_runtime(runtime: Runtime, cameras: CameraScope) -> Runtime:
    """`runtime` as a principal limited to `cameras` sees it (itself when unlimited)."""
    if cameras is None:
        return runtime
    return ScopedRuntime(runtime, cameras)  # type: ignore[return-value]
