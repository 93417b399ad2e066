"""HlsSessions with real remux children on a local H.264+AAC clip and an RTSP camera (no Ray)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iris.actors.hls import (
    PLAYLIST,
    REMUX_MODULE,
    HlsCapacity,
    HlsDisabled,
    HlsRefused,
    HlsSessions,
    remux_command,
)
from iris.actors.hls_remux import EXIT_FAILED, EXIT_REFUSED, job_line
from iris.sources import SourcePolicy
from tests.support.media import make_clip, probe, to_annexb
from tests.support.rtsp import RtspServer, gstreamer_available

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


@pytest.fixture(scope="module")
def url(clip: Path) -> str:
    """The clip as a camera URL (what the DB stores for a local source)."""
    return clip.as_uri()


@pytest.fixture
def sessions(tmp_path: Path, clock: FakeClock, clip: Path) -> Iterator[HlsSessions]:
    manager = HlsSessions(tmp_path / "hls", policy=SourcePolicy(local_dir=clip.parent),
                          max_sessions=2, idle_seconds=30, clock=clock)
    manager.start()
    try:
        yield manager
    finally:
        manager.stop_all()


def session(manager: HlsSessions, camera_id: int) -> dict:
    found = [s for s in manager.sessions() if s["camera_id"] == camera_id]
    assert found, f"no session for camera {camera_id}"
    return found[0]


def test_playlist_appears_with_video_and_audio_segments(sessions: HlsSessions, url: str) -> None:
    started = time.monotonic()
    playlist = sessions.ensure(1, url)
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


def test_playlist_refetch_waits_for_a_new_segment(sessions: HlsSessions, url: str) -> None:
    sessions.ensure(1, url)
    first = sessions.playlist(1, READY_TIMEOUT_S)
    assert first is not None and first.startswith("#EXTM3U"), sessions.last_error(1)
    # A player re-fetching at once (Chromium does when playback starts) must see the live
    # edge move, or it gives up on the stream.
    second = sessions.playlist(1, READY_TIMEOUT_S)
    assert second is not None
    assert newest_segment(second) > newest_segment(first), (first, second)
    assert sessions.playlist(99, 0.2) is None  # no session, no playlist


def test_ensure_is_idempotent_and_follows_a_new_source(
    sessions: HlsSessions, clip: Path, url: str, tmp_path: Path
) -> None:
    sessions.ensure(1, url)
    pid = session(sessions, 1)["pid"]
    sessions.ensure(1, url)
    assert session(sessions, 1)["pid"] == pid
    assert len(sessions.sessions()) == 1

    other = tmp_path / "other.mp4"
    other.symlink_to(clip)  # resolves into the local sources folder: allowed
    sessions.ensure(1, f"file://{other}")  # camera repointed: same session, new remux
    assert session(sessions, 1)["pid"] != pid
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)


def test_capacity_counts_distinct_cameras(sessions: HlsSessions, url: str) -> None:
    sessions.ensure(1, url)
    sessions.ensure(2, url)
    with pytest.raises(HlsCapacity, match="2 HLS live sessions"):
        sessions.ensure(3, url)
    assert not (sessions.root / "3").exists()
    sessions.ensure(1, url)  # a running session never counts twice
    assert sessions.close(2)
    sessions.ensure(3, url)
    assert sorted(s["camera_id"] for s in sessions.sessions()) == [1, 3]


def test_disabled_refuses_to_start(tmp_path: Path, url: str) -> None:
    manager = HlsSessions(tmp_path / "hls", enabled=False)
    with pytest.raises(HlsDisabled, match="disabled"):
        manager.ensure(1, url)
    assert manager.sessions() == []
    assert not (tmp_path / "hls" / "1").exists()


def test_idle_session_is_reaped_and_its_folder_removed(
    sessions: HlsSessions, url: str, clock: FakeClock
) -> None:
    playlist = sessions.ensure(1, url)
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


def test_close_is_idempotent(sessions: HlsSessions, url: str) -> None:
    playlist = sessions.ensure(1, url)
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    pid = session(sessions, 1)["pid"]

    assert sessions.close(1) is True
    assert not playlist.parent.exists()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert sessions.close(1) is False
    assert sessions.close(99) is False
    assert not sessions.wait_ready(1, 0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_exited_remux_is_restarted_with_a_fresh_playlist(
    sessions: HlsSessions, url: str, clock: FakeClock, signum: int
) -> None:
    playlist = sessions.ensure(1, url)
    assert sessions.wait_ready(1, READY_TIMEOUT_S), sessions.last_error(1)
    pid = session(sessions, 1)["pid"]

    os.kill(pid, signum)  # what a dropped source looks like from here
    wait_until(lambda: session(sessions, 1)["last_error"] != "", 10, "the remux's exit")
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
    wait_until(lambda: session(sessions, 1)["last_error"] != "", 15, "the remux to give up")
    error = sessions.last_error(1)
    assert "Connection refused" in error
    assert "s3cret" not in error and "admin" not in error
    assert "rtsp://***@127.0.0.1:9/stream" in error
    assert not sessions.wait_ready(1, 0.5)
    assert sessions.playlist(1, 0.5) is None


def test_stop_all_ends_every_session(tmp_path: Path, clip: Path, url: str) -> None:
    manager = HlsSessions(tmp_path / "hls", policy=SourcePolicy(local_dir=clip.parent),
                          max_sessions=2)
    manager.start()
    manager.ensure(1, url)
    manager.ensure(2, url)
    pids = [s["pid"] for s in manager.sessions()]
    manager.stop_all()
    assert manager.sessions() == []
    assert list((tmp_path / "hls").iterdir()) == []
    assert all(not Path(f"/proc/{pid}").exists() or _is_zombie(pid) for pid in pids)


@pytest.mark.parametrize(
    "source",
    ["file:///etc/passwd", "file:concat:/etc/passwd|/etc/hostname", "http://169.254.169.254/x",
     "rtsp://u:p@ss@cam/s"],
)
def test_refused_source_starts_no_session(sessions: HlsSessions, url: str, source: str) -> None:
    sessions.ensure(1, url)
    pid = session(sessions, 1)["pid"]
    with pytest.raises(HlsRefused, match="source is refused"):
        sessions.ensure(1, source)  # a stored row from before the policy, say
    assert sessions.sessions() == []  # the running one is closed too, not repointed
    assert not (sessions.root / "1").exists()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def test_remux_child_vets_the_source_itself(tmp_path: Path, clip: Path) -> None:
    # Defence in depth: a job the session manager should never send is refused at open.
    for source in ("file:concat:/etc/passwd|/etc/hostname", "file:///etc/passwd"):
        job = job_line(source, "tcp", SourcePolicy(local_dir=clip.parent))
        done = subprocess.run(remux_command(tmp_path), input=job, capture_output=True,
                              timeout=60)
        assert done.returncode == EXIT_REFUSED, done.stderr
        assert b"source refused" in done.stderr
        assert not (tmp_path / PLAYLIST).exists()


def test_remux_command_line_names_no_source(tmp_path: Path) -> None:
    assert remux_command(tmp_path / "7") == [sys.executable, "-m", REMUX_MODULE,
                                             str(tmp_path / "7")]


def _command_lines_and_environments() -> list[bytes]:
    """What `ps` and /proc show of every process (environments: where readable)."""
    shown = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            for name in ("cmdline", "environ"):
                try:
                    shown.append((proc / name).read_bytes())
                except OSError:
                    continue
    return shown


@pytest.mark.skipif(not gstreamer_available(), reason="GStreamer RTSP server missing")
def test_no_process_shows_the_camera_url_or_password(tmp_path: Path, clock: FakeClock) -> None:
    source = make_clip(tmp_path / "cam.mp4", seconds=3, fps=25, size=(320, 180), audio=True)
    with RtspServer(to_annexb(source), audio_mp4=source, fps=25,
                    log_path=tmp_path / "rtsp.log") as rtsp:
        password = "pw-0f8e2d71c4"
        camera = rtsp.url.replace("rtsp://", f"rtsp://viewer:{password}@")
        manager = HlsSessions(tmp_path / "hls", clock=clock)
        manager.start()
        try:
            manager.ensure(1, camera)
            assert manager.wait_ready(1, READY_TIMEOUT_S), manager.last_error(1)
            assert session(manager, 1)["running"]
            shown = b"\0".join(_command_lines_and_environments())
            assert password.encode() not in shown
            assert rtsp.url.encode()[len("rtsp://"):] not in shown  # host:port/cam
        finally:
            manager.stop_all()


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


# A parent that starts one remux on the clip (looped at real time), prints its pid, then waits.
_OWNER = """
import subprocess, sys
from pathlib import Path
from iris.actors.hls import remux_command
from iris.actors.hls_remux import job_line
from iris.sources import SourcePolicy
folder, clip = Path(sys.argv[1]), Path(sys.argv[2])
child = subprocess.Popen(remux_command(folder), stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
child.stdin.write(job_line(clip.as_uri(), "tcp", SourcePolicy(local_dir=clip.parent)))
child.stdin.close()
print(child.pid, flush=True)
sys.stdin.read()
"""


def test_a_remux_dies_with_the_process_that_started_it(tmp_path: Path, clip: Path) -> None:
    folder = tmp_path / "1"
    folder.mkdir()
    owner = subprocess.Popen([sys.executable, "-c", _OWNER, str(folder), str(clip)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert owner.stdout is not None
    child = int(owner.stdout.readline())
    try:
        wait_until(lambda: (folder / PLAYLIST).exists(), READY_TIMEOUT_S, "the remux's playlist")
        owner.kill()  # a crashed session owner: no close, no stop_all
        owner.wait(10)
        wait_until(lambda: _is_zombie(child), 10, "the orphaned remux to die")
    finally:
        owner.kill()
        if not _is_zombie(child):
            os.kill(child, signal.SIGKILL)


def test_a_remux_whose_parent_is_not_the_one_its_job_names_leaves(tmp_path: Path,
                                                                  clip: Path) -> None:
    # What a remux sees when its starter died between the fork and the child's prctl.
    job = job_line(clip.as_uri(), "tcp", SourcePolicy(local_dir=clip.parent), parent=1)
    done = subprocess.run(remux_command(tmp_path), input=job, capture_output=True, timeout=60)
    assert done.returncode == EXIT_FAILED, done.stderr
    assert b"the session owner is gone" in done.stderr
    assert not (tmp_path / PLAYLIST).exists()
