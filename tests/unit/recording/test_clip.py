"""Clips cut from recorded segments by time range, and thumbnails, on real files (no Ray)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from iris.recording.clip import ClipUnavailable, assemble_clip
from iris.recording.thumbnails import thumbnail_of_recording, write_thumbnail
from tests.support.media import decode_errors, is_faststart, make_clip, probe
from tests.unit.recording.support import WALL0, record, segments_in


def clip_checks(path: Path, expected: float, returned: float) -> None:
    info = probe(path)
    assert [s["codec_name"] for s in info["streams"]] == ["h264", "aac"]
    assert abs(returned - expected) <= 1.0
    assert abs(float(info["format"]["duration"]) - returned) < 0.1
    assert is_faststart(path)
    assert decode_errors(path) == ""
    assert not list(path.parent.glob(f"{path.name}*.part"))


@pytest.mark.parametrize(("start", "end"), [(1.5, 6.2), (0.0, 8.0), (4.4, 5.0), (-3.0, 3.0)])
def test_clip_covers_the_requested_window(tmp_path: Path, clip8: Path, start: float,
                                          end: float) -> None:
    record(clip8, tmp_path / "seg").close()
    out = tmp_path / "clips" / "clip.mp4"
    duration = assemble_clip(segments_in(tmp_path / "seg"), WALL0 + start, WALL0 + end, out)
    clip_checks(out, min(end, 8.0) - max(start, 0.0), duration)


def test_clip_closes_gaps_between_recordings(tmp_path: Path, clip8: Path) -> None:
    writer = record(clip8, tmp_path / "seg")
    record(clip8, tmp_path / "seg", wall0=WALL0 + 30, writer=writer)
    writer.close()
    out = tmp_path / "clip.mp4"
    duration = assemble_clip(segments_in(tmp_path / "seg"), WALL0 + 4, WALL0 + 34, out)
    clip_checks(out, 8.0, duration)  # 4 s of each recording, without the 22 s hole


def test_clip_skips_segments_whose_file_is_gone(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path / "seg").close()
    segments = segments_in(tmp_path / "seg")
    segments[1].path.unlink()  # retention took it while the clip was being cut
    out = tmp_path / "clip.mp4"
    duration = assemble_clip(segments, WALL0, WALL0 + 8, out)
    clip_checks(out, 6.0, duration)


def test_clip_stops_at_segments_with_other_streams(tmp_path: Path, clip8: Path) -> None:
    other = make_clip(tmp_path / "other.mp4", seconds=4, size=(320, 240))
    writer = record(clip8, tmp_path / "seg")
    record(other, tmp_path / "seg", wall0=WALL0 + 8, writer=writer)
    writer.close()
    segments = segments_in(tmp_path / "seg")
    assert len(segments) == 6
    out = tmp_path / "clip.mp4"
    duration = assemble_clip(segments, WALL0 + 4, WALL0 + 12, out)
    clip_checks(out, 4.0, duration)


def test_clip_outside_recordings_is_unavailable(tmp_path: Path, clip8: Path) -> None:
    record(clip8, tmp_path / "seg").close()
    segments = segments_in(tmp_path / "seg")
    with pytest.raises(ClipUnavailable):
        assemble_clip(segments, WALL0 + 100, WALL0 + 110, tmp_path / "clip.mp4")
    with pytest.raises(ClipUnavailable):
        assemble_clip([], WALL0, WALL0 + 1, tmp_path / "clip.mp4")
    assert not list(tmp_path.glob("clip.mp4*"))


def test_thumbnail_of_a_recording_is_a_jpeg_of_its_first_frame(tmp_path: Path,
                                                               clip8: Path) -> None:
    thumb = thumbnail_of_recording(clip8, tmp_path / "thumbs" / "t.jpg")
    image = cv2.imread(str(thumb))
    assert image is not None and image.shape == (360, 640, 3)
    assert image.std() > 10  # a picture, not a flat colour


def test_thumbnail_of_a_detection_shows_its_box_scaled_down(tmp_path: Path) -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    thumb = write_thumbnail(frame, (100, 100, 300, 300), tmp_path / "t.jpg")
    image = cv2.imread(str(thumb))
    assert image is not None and image.shape == (360, 640, 3)
    assert image[50:150, 50:150].max() > 100  # the box, at half scale
