"""/api/recordings and event clips over the recording store, without Ray: real segments in a
real data root and SQLite, the app in-process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from iris.db.tables import Event
from iris.serve.api import create_api
from iris.settings import load_settings
from tests.support.api import api_client
from tests.support.media import decode_errors, make_clip, probe
from tests.unit.recording.conftest import Store
from tests.unit.recording.support import WALL0

KEY = "unit-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@pytest.fixture(scope="module")
def clip8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s, 25 fps, GOP 1 s, H.264 + AAC."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip8.mp4", seconds=8, size=(640, 360))


@pytest.fixture
def recorded(tmp_path: Path, clip8: Path) -> Store:
    """A camera with 8 s of footage at WALL0 and 8 s at WALL0 + 30 (a 22 s outage between)."""
    store = Store(tmp_path)
    store.record(clip8, WALL0)
    store.record(clip8, WALL0 + 30)
    return store


@pytest.fixture
def api(recorded: Store, tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(data_dir=recorded.root, api_key=KEY,
                             database_url=f"sqlite:///{tmp_path / 'iris.db'}",
                             recordings_clip_max_seconds=60)
    with api_client(create_api(settings), headers=AUTH) as client:
        yield client


def window(start: float, end: float) -> dict[str, str]:
    return {"from": iso(start), "to": iso(end)}


def test_coverage_of_a_range(api: TestClient, recorded: Store) -> None:
    answer = api.get("/api/recordings", params={"camera_id": recorded.camera_id,
                                                **window(WALL0 - 5, WALL0 + 34)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["camera_id"] == recorded.camera_id and body["from"] and body["to"]
    spans = [(datetime.fromisoformat(s["start"]).timestamp() - WALL0,
              datetime.fromisoformat(s["end"]).timestamp() - WALL0) for s in body["spans"]]
    assert [(round(s, 3), round(e, 3)) for s, e in spans] == [(0, 8), (30, 34)]
    assert body["recorded_seconds"] == 12.0 and body["gaps"] == []


@pytest.mark.parametrize(("params", "code", "detail"), [
    ({"from": iso(WALL0 + 10), "to": iso(WALL0)}, 400, "'to' must be after 'from'"),
    ({"from": iso(WALL0), "to": iso(WALL0 + 8 * 86400)}, 400, "at most 7 days"),
    ({"from": iso(WALL0)}, 422, None),
])
def test_coverage_refuses_bad_ranges(api: TestClient, recorded: Store, params: dict,
                                     code: int, detail: str | None) -> None:
    answer = api.get("/api/recordings", params={"camera_id": recorded.camera_id, **params})
    assert answer.status_code == code, answer.text
    if detail:
        assert detail in answer.json()["detail"]


def test_unknown_camera_is_404_everywhere(api: TestClient) -> None:
    span = window(WALL0, WALL0 + 8)
    for url, params in (("/api/recordings", {"camera_id": 999, **span}),
                        ("/api/recordings/summary", {"camera_id": 999, "day": "2023-11-14"}),
                        ("/api/recordings/999/clip", span),
                        ("/api/recordings/999/playlist.m3u8", span)):
        answer = api.get(url, params=params)
        assert (answer.status_code, answer.json()) == (404, {"detail": "Camera not found."})


def test_summary_of_a_day_by_hour(api: TestClient, recorded: Store) -> None:
    with Session(recorded.engine) as session:
        session.add(Event(camera_id=recorded.camera_id, label="person",
                          ts=datetime.fromtimestamp(WALL0 + 2, UTC)))
        session.commit()
    day = datetime.fromtimestamp(WALL0, UTC).date().isoformat()
    body = api.get("/api/recordings/summary",
                   params={"camera_id": recorded.camera_id, "day": day}).json()
    assert (body["day"], body["tz"], len(body["hours"])) == (day, "UTC", 24)
    hour = datetime.fromtimestamp(WALL0, UTC).hour
    assert body["hours"][hour]["recorded_seconds"] == 16.0
    assert body["hours"][hour]["labels"] == {"person": 1}
    assert (body["recorded_seconds"], body["events"]) == (16.0, 1)
    bad = api.get("/api/recordings/summary", params={"camera_id": recorded.camera_id,
                                                     "day": day, "tz": "Mars/Olympus"})
    assert bad.status_code == 400 and "time zone" in bad.json()["detail"]


def test_export_clip_of_a_range_with_range_requests(api: TestClient, recorded: Store,
                                                    tmp_path: Path) -> None:
    url = f"/api/recordings/{recorded.camera_id}/clip"
    whole = api.get(url, params=window(WALL0 + 4, WALL0 + 34))
    assert whole.status_code == 200, whole.text
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith('attachment; filename="camera-')
    out = tmp_path / "export.mp4"
    out.write_bytes(whole.content)
    assert float(probe(out)["format"]["duration"]) == pytest.approx(8, abs=0.2)  # gap closed
    assert decode_errors(out) == ""
    part = api.get(url, params=window(WALL0 + 4, WALL0 + 34), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    beyond = api.get(url, params=window(WALL0 + 4, WALL0 + 34),
                     headers={"Range": f"bytes={len(whole.content)}-"})
    assert beyond.status_code == 416


@pytest.mark.parametrize(("span", "code", "detail"), [
    ((WALL0 + 100, WALL0 + 130), 404, "Nothing was recorded between"),
    ((WALL0, WALL0 + 61), 400, "at most 60 s"),
    ((WALL0 + 5, WALL0 + 5), 400, "'to' must be after 'from'"),
])
def test_export_clip_refusals(api: TestClient, recorded: Store, span: tuple[float, float],
                              code: int, detail: str) -> None:
    answer = api.get(f"/api/recordings/{recorded.camera_id}/clip", params=window(*span))
    assert answer.status_code == code and detail in answer.json()["detail"]


def test_playlist_and_its_segments(api: TestClient, recorded: Store, tmp_path: Path) -> None:
    url = f"/api/recordings/{recorded.camera_id}/playlist.m3u8"
    playlist = api.get(url, params=window(WALL0, WALL0 + 40))
    assert playlist.status_code == 200, playlist.text
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    lines = playlist.text.splitlines()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST"
    uris = [line for line in lines if line and not line.startswith("#")]
    assert len(uris) == 8
    segment = api.get(str(playlist.url.join(uris[5])))  # resolved like a player does
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    out = tmp_path / "seg.ts"
    out.write_bytes(segment.content)
    assert float(probe(out)["streams"][0]["start_time"]) == pytest.approx(10, abs=0.01)
    # Every segment URL is authenticated and belongs to its camera.
    assert api.get(str(playlist.url.join(uris[5])), headers={"Authorization": ""}
                   ).status_code == 401
    other = recorded.add_camera(name="other")
    segment_id = uris[5].split("/")[1].split(".")[0]
    assert api.get(f"/api/recordings/{other}/segments/{segment_id}.ts").status_code == 404
    nothing = api.get(url, params=window(WALL0 + 100, WALL0 + 120))
    assert nothing.status_code == 404


def event_row(store: Store, **fields: object) -> int:
    with Session(store.engine) as session:
        event = Event(camera_id=store.camera_id, ts=datetime.fromtimestamp(WALL0 + 1, UTC),
                      **fields)
        session.add(event)
        session.commit()
        assert event.id is not None
        return event.id


def test_an_events_clip_is_cut_from_the_store_with_range(api: TestClient, recorded: Store,
                                                         tmp_path: Path) -> None:
    event_id = event_row(recorded, clip_start=WALL0 + 1, clip_end=WALL0 + 7)
    detail = api.get(f"/api/events/{event_id}").json()
    assert detail["clip_url"] == f"/api/events/{event_id}/clip"
    assert datetime.fromisoformat(detail["clip_start"]).timestamp() == WALL0 + 1
    clip = api.get(detail["clip_url"])
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    out = tmp_path / "event.mp4"
    out.write_bytes(clip.content)
    assert float(probe(out)["format"]["duration"]) == pytest.approx(7, abs=1.0)  # from a keyframe
    assert api.get(detail["clip_url"], headers={"Range": "bytes=-10"}).content == \
        clip.content[-10:]
    assert (recorded.layout.clip_cache(recorded.camera_id) / f"event-{event_id}.mp4").is_file()
    # Deleting the event takes its cached clip.
    assert api.delete(f"/api/events/{event_id}").status_code == 204
    assert not list(recorded.layout.clip_cache(recorded.camera_id).glob(f"event-{event_id}.*"))


def test_an_event_still_recording_serves_what_is_recorded_so_far(api: TestClient,
                                                                 recorded: Store) -> None:
    event_id = event_row(recorded, clip_start=WALL0 + 30, in_progress=True)
    clip = api.get(f"/api/events/{event_id}/clip")
    assert clip.status_code == 200 and clip.headers["cache-control"] == "no-store"


def test_an_event_whose_range_holds_no_footage_has_no_clip(api: TestClient,
                                                           recorded: Store) -> None:
    event_id = event_row(recorded, clip_start=WALL0 + 12, clip_end=WALL0 + 20)  # the outage
    answer = api.get(f"/api/events/{event_id}/clip")
    assert answer.status_code == 404 and "nothing was recorded" in answer.json()["detail"]
    bare = event_row(recorded)  # no range and no file: no clip at all
    assert api.get(f"/api/events/{bare}").json()["clip_url"] is None


def test_system_and_metrics_show_storage_gaps_and_coverage(api: TestClient,
                                                           recorded: Store) -> None:
    from iris.recording.index import add_gap

    with Session(recorded.engine) as session:
        add_gap(session, camera_id=recorded.camera_id, start=WALL0 + 8, end=WALL0 + 30,
                reason="stream ended")
    answer = api.get("/api/system")
    assert answer.status_code == 200, answer.text
    recording = answer.json()["recording"]
    assert recording["disk_total_bytes"] > 0 and recording["min_free_bytes"] > 0
    camera = next(c for c in recording["cameras"] if c["camera_id"] == recorded.camera_id)
    assert camera["segments"] == 8 and camera["bytes"] == recording["recordings_bytes"]
    assert camera["days_held"] == round(38 / 86400, 3)
    # Footage from 2023 and none since: the camera is not recording now, which counts.
    assert camera["gap_seconds"] > 22 and camera["coverage_today"] == 0.0
    text = api.get("/api/system/metrics").text
    assert f'iris_recording_coverage_ratio{{camera_id="{recorded.camera_id}"}} 0' in text
    assert "# TYPE iris_recording_gap_seconds_total counter" in text
    assert f'iris_recording_bytes{{camera_id="{recorded.camera_id}"}} {camera["bytes"]:g}' \
        in text
