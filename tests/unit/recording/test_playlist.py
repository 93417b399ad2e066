"""HLS VOD over stored segments: the playlist and MPEG-TS remuxed on request (no Ray)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from iris.recording.index import segments_between
from iris.recording.playlist import render_playlist, segment_ts
from tests.support.media import decode_errors, probe
from tests.unit.recording.conftest import Store
from tests.unit.recording.support import WALL0


def test_playlist_is_vod_with_positions_and_wall_clock(store: Store, clip8: Path) -> None:
    store.record(clip8, WALL0)
    store.record(clip8, WALL0 + 30)
    with Session(store.engine) as session:
        indexed = segments_between(session, layout=store.layout, camera_id=store.camera_id,
                                   start=WALL0, end=WALL0 + 40)
    lines = render_playlist(indexed).splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and "#EXT-X-TARGETDURATION:2" in lines
    uris = [line for line in lines if line and not line.startswith("#")]
    assert len(uris) == 8 and lines.count("#EXTINF:2.000,") == 8
    assert uris[0] == f"segments/{indexed[0].id}.ts?at=0"
    assert uris[4] == f"segments/{indexed[4].id}.ts?at=8000"  # the 22 s hole is closed up
    assert "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:50.000Z" in lines  # WALL0 + 30


def test_a_segment_remuxes_to_mpegts_at_its_playlist_position(store: Store, tmp_path: Path,
                                                              clip8: Path) -> None:
    segment = store.record(clip8, WALL0)[1]
    out = tmp_path / "seg.ts"
    out.write_bytes(segment_ts(segment, 12.0))
    info = probe(out)
    assert info["format"]["format_name"] == "mpegts"
    assert [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
    assert abs(float(info["streams"][0]["start_time"]) - 12.0) < 0.01
    assert decode_errors(out) == ""
