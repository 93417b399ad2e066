"""HlsSessions with real ffmpeg processes on a local H.264+AAC clip (no Ray)."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iris.actors.hls import (
    PLAYLIST,
    HlsCapacity,
    HlsDisabled,
    HlsSessions,
    ffmpeg_command,
    redact,
)
from tests.support.media import make_clip, probe

READY_TIMEOUT_S = 15.0
SEGMENT_LINE = re.compile(r"seg[0-9]{5}\.ts")


class FakeClock:
    """The sessions' notion of now, advanced by the test (idle and backoff decisions)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hls-clip") / "clip.mp4"
    return make_clip(path, seconds=3, fps=25, size=(320, 180), audio=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sessions(tmp_path: Path, clock: FakeClock) -> Iterator[HlsSessions]:
    manager = HlsSessions(tmp_path / "hls", max_sessions=2, idle_seconds=30, clock=clock)
    manager.start()
    try:
        yield manager
    finally:
        manager.stop_all()


def session(manager: HlsSessions, camera_id: int) -> dict:
    found = [s for s in manager.sessions() if s["camera_id"] == camera_id]
    assert found, f"no session for camera {camera_id}"
    return found[0]


def test_playlist_appears_with_video_and_audio_segments(sessions: HlsSessions, clip: Path) -> None:
    started = time.monotonic()
    playlist = sessions.ensure(1, str(clip))
    assert playlist == sessions.root / "1" / PLAYLIST
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    print(f"time to first playlist: {time.monotonic() - started:.2f} s")

    text = playlist.read_text()
    assert text.startswith("#EXTM3U") and "#EXT-X-ENDLIST" not in text
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(SEGMENT_LINE.fullmatch(uri) for uri in uris), uris  # bare names
    assert len(uris) >= 3, text  # players need three target durations to start live

    streams = probe(playlist.parent / uris[0])["streams"]
    kinds = {(s["codec_type"], s["codec_name"]) for s in streams}
    assert kinds == {("video", "h264"), ("audio", "aac")}  # stream copy, audio kept


def newest_segment(playlist: str) -> int:
    return max(int(line[3:8]) for line in playlist.splitlines() if SEGMENT_LINE.fullmatch(line))


def test_playlist_refetch_waits_for_a_new_segment(sessions: HlsSessions, clip: Path) -> None:
    sessions.ensure(1, str(clip))
    first = sessions.playlist(1, READY_TIMEOUT_S)
    assert first is not None and first.startswith("#EXTM3U"), sessions.last_error(1)
    # A player re-fetching at once (Chromium does when playback starts) must see the live
    # edge move, or it gives up on the stream.
    second = sessions.playlist(1, READY_TIMEOUT_S)
    assert second is not None
    assert newest_segment(second) > newest_segment(first), (first, second)
    assert sessions.playlist(99, 0.2) is None  # no session, no playlist


def test_ensure_is_idempotent_and_follows_a_new_source(
    sessions: HlsSessions, clip: Path, tmp_path: Path
) -> None:
    sessions.ensure(1, str(clip))
    pid = session(sessions, 1)["pid"]
    sessions.ensure(1, str(clip))
    assert session(sessions, 1)["pid"] == pid
    assert len(sessions.sessions()) == 1

    other = tmp_path / "other.mp4"
    other.symlink_to(clip)
    sessions.ensure(1, f"file://{other}")  # camera repointed: same session, new ffmpeg
    assert session(sessions, 1)["pid"] != pid
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)


def test_capacity_counts_distinct_cameras(sessions: HlsSessions, clip: Path) -> None:
    sessions.ensure(1, str(clip))
    sessions.ensure(2, str(clip))
    with pytest.raises(HlsCapacity, match="2 HLS live sessions"):
        sessions.ensure(3, str(clip))
    assert not (sessions.root / "3").exists()
    sessions.ensure(1, str(clip))  # a running session never counts twice
    assert sessions.close(2)
    sessions.ensure(3, str(clip))
    assert sorted(s["camera_id"] for s in sessions.sessions()) == [1, 3]


def test_disabled_refuses_to_start(tmp_path: Path, clip: Path) -> None:
    manager = HlsSessions(tmp_path / "hls", enabled=False)
    with pytest.raises(HlsDisabled, match="disabled"):
        manager.ensure(1, str(clip))
    assert manager.sessions() == []
    assert not (tmp_path / "hls" / "1").exists()


def test_idle_session_is_reaped_and_its_folder_removed(
    sessions: HlsSessions, clip: Path, clock: FakeClock
) -> None:
    playlist = sessions.ensure(1, str(clip))
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    pid = session(sessions, 1)["pid"]

    clock.now += 20
    assert sessions.touch(1)  # a playlist request 20 s in keeps it alive
    assert sessions.reap_idle(clock.now + 29) == []
    assert playlist.is_file()

    assert sessions.reap_idle(clock.now + 30) == [1]
    assert sessions.sessions() == []
    assert not playlist.parent.exists()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert not sessions.touch(1)


def test_close_is_idempotent(sessions: HlsSessions, clip: Path) -> None:
    playlist = sessions.ensure(1, str(clip))
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    pid = session(sessions, 1)["pid"]

    assert sessions.close(1) is True
    assert not playlist.parent.exists()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert sessions.close(1) is False
    assert sessions.close(99) is False
    assert not sessions.wait_ready(1, 0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_exited_ffmpeg_is_restarted_with_a_fresh_playlist(
    sessions: HlsSessions, clip: Path, clock: FakeClock, signum: int
) -> None:
    playlist = sessions.ensure(1, str(clip))
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    pid = session(sessions, 1)["pid"]

    # What a dropped source looks like from here; on SIGTERM ffmpeg also writes ENDLIST.
    os.kill(pid, signum)
    wait_until(lambda: session(sessions, 1)["last_error"] != "", 10, "ffmpeg's exit to be noticed")
    assert not session(sessions, 1)["ready"]
    assert session(sessions, 1)["restarts"] == 0  # backoff: not before 0.5 s

    clock.now += 1
    wait_until(lambda: session(sessions, 1)["restarts"] == 1, 10, "the restart")
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    restarted = session(sessions, 1)
    assert restarted["pid"] != pid and restarted["running"]
    assert "#EXT-X-ENDLIST" not in playlist.read_text()


def test_unreachable_camera_reports_its_error_without_credentials(
    sessions: HlsSessions,
) -> None:
    sessions.ensure(1, "rtsp://admin:s3cret@127.0.0.1:9/stream")  # nothing listens on port 9
    wait_until(lambda: session(sessions, 1)["last_error"] != "", 15, "ffmpeg to give up")
    error = sessions.last_error(1)
    assert "Connection refused" in error
    assert "s3cret" not in error and "admin" not in error
    assert "rtsp://***@127.0.0.1:9/stream" in error
    assert not sessions.wait_ready(1, 0.5)
    assert sessions.playlist(1, 0.5) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://u:p@cam:554/s: Connection refused", "rtsp://***@cam:554/s: Connection refused"),
        ("http://token@host/x and rtsps://a:b@h/y", "http://***@host/x and rtsps://***@h/y"),
        ("/clips/a.mp4: No such file", "/clips/a.mp4: No such file"),
    ],
)
def test_redact_masks_url_credentials(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_stop_all_ends_every_session(tmp_path: Path, clip: Path) -> None:
    manager = HlsSessions(tmp_path / "hls", max_sessions=2)
    manager.start()
    manager.ensure(1, str(clip))
    manager.ensure(2, str(clip))
    pids = [s["pid"] for s in manager.sessions()]
    manager.stop_all()
    assert manager.sessions() == []
    assert list((tmp_path / "hls").iterdir()) == []
    assert all(not Path(f"/proc/{pid}").exists() or _is_zombie(pid) for pid in pids)


@pytest.mark.parametrize(
    ("source", "expected", "absent"),
    [
        (
            "rtsp://u:p@cam/s",
            ["-rtsp_transport", "tcp", "-timeout", "10000000", "-i", "rtsp://u:p@cam/s"],
            ["-re"],
        ),
        ("/clips/a.mp4", ["-re", "-stream_loop", "-1", "-i", "/clips/a.mp4"], ["-rtsp_transport"]),
        ("file:///clips/a.mp4", ["-stream_loop", "-1", "-i", "/clips/a.mp4"], ["-rtsp_transport"]),
    ],
)
def test_ffmpeg_command_copies_streams(source: str, expected: list[str], absent: list[str]) -> None:
    command = ffmpeg_command(source, "tcp", Path("/data/hls/7"))
    joined = " ".join(command)
    assert " ".join(expected) in joined
    assert all(flag not in command for flag in absent)
    assert "-c copy" in joined and "-map 0:a?" in joined  # no transcoding, audio if present
    assert command[-1] == "/data/hls/7/index.m3u8"
    assert "/data/hls/7/seg%05d.ts" in command


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
