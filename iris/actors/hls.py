"""On-demand RTSP→HLS sessions: one PyAV stream-copy child per watched camera (no Ray import).

A session starts on the first playlist request (`ensure`), is kept alive by later playlist
requests (`ensure`/`touch`), and ends on `close` or after `idle_seconds` without a request. Its
folder `<hls_root>/<camera_id>/` holds the rolling `index.m3u8` and `seg%05d.ts` files written
by the remux child (`iris.actors.hls_remux`, which gets the camera URL on stdin, never on its
command line) and is removed when the session ends. When the child exits while the session is
still wanted (source dropped, camera rebooted) the session restarts with a cleared folder,
backing off while the source keeps failing. A background thread (`start`) scans the playlists,
restarts and reaps; `playlist` waits on a condition it signals.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from iris.actors.hls_remux import PLAYLIST, job_line
from iris.redact import redact_text
from iris.sources import SourcePolicy, SourceRefused, check_source

log = logging.getLogger("iris.hls")

SEGMENT_PATTERN = r"seg[0-9]{5}\.ts"  # the remux's `seg%05d.ts`; the routes accept nothing else
_SEGMENT_LINE = re.compile(SEGMENT_PATTERN)
REMUX_LOG = "remux.log"  # kept in the session folder; the routes never serve it
REMUX_MODULE = "iris.actors.hls_remux"
STOP_TIMEOUT_S = 3.0
RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
STABLE_RUN_S = 10.0  # a run this long resets the restart backoff
TICK_S = 1.0
FAST_TICK_S = 0.1  # while a session starts or a playlist request waits
# RFC 8216 6.2.2: a live playlist must span three target durations before players start.
READY_SEGMENTS = 3
# Blocking reload: a playlist answer waits (this long at most) for a segment that no earlier
# answer listed. Chromium's native player re-fetches the playlist right after it starts playing
# and fails (DEMUXER_ERROR_COULD_NOT_PARSE) when that copy holds nothing new.
FRESH_WAIT_S = 2.0
# seg%05d must stay five digits (the routes' pattern): restart the numbering before 100000.
LAST_SEGMENT_NUMBER = 99_990

class HlsError(RuntimeError):
    """An HLS session cannot be started."""


class HlsDisabled(HlsError):
    """HLS is switched off in the settings (`hls_enabled: false`)."""


class HlsCapacity(HlsError):
    """`max_sessions` sessions already run."""


class HlsRefused(HlsError):
    """The camera's source is not one this server opens (`iris.sources`)."""


EnsureState = Literal["ready", "starting", "disabled", "capacity", "not_found", "camera_disabled"]


@dataclass(frozen=True)
class EnsureResult:
    """What a playlist request learns from the session manager (crosses the Ray boundary)."""

    state: EnsureState
    detail: str = ""
    playlist: str = ""  # the playlist text when `state == "ready"`


@dataclass
class _Session:
    camera_id: int
    source: str = field(repr=False)  # the camera URL as stored
    transport: str
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    last_request: float = 0.0
    ready: bool = False
    restarts: int = 0
    failures: int = 0  # consecutive short runs, for the restart backoff
    exited_at: float | None = None  # when the remux was found dead (waiting for its restart)
    newest: int = -1  # number of the newest segment in the playlist
    served: int = -1  # newest segment number any playlist answer has listed
    last_error: str = ""  # the remux's last complaint, kept until the next playlist appears


def remux_command(folder: Path, python: str = sys.executable) -> list[str]:
    """The command line of one session run: no URL on it (the job goes to its stdin)."""
    return [python, "-m", REMUX_MODULE, str(folder)]


class HlsSessions:
    """The HLS sessions of one Iris instance, each a remux child writing into its folder.

    Args:
        root: folder holding one sub-folder per camera session (`<data root>/hls`).
        policy: which camera sources may be opened (checked here and again by the child).
        enabled: `hls_enabled`; when False `ensure` raises `HlsDisabled`.
        max_sessions: most sessions running at once; one more raises `HlsCapacity`.
        idle_seconds: a session with no request for this long is closed by `reap_idle`.
        python: the interpreter that runs `iris.actors.hls_remux`.
        clock: monotonic time source (tests may pass their own).
    """

    def __init__(
        self,
        root: Path,
        *,
        policy: SourcePolicy | None = None,
        enabled: bool = True,
        max_sessions: int = 4,
        idle_seconds: float = 30.0,
        python: str = sys.executable,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root)
        self.policy = policy if policy is not None else SourcePolicy()
        self.enabled = enabled
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.python = python
        self._clock = clock
        self._sessions: dict[int, _Session] = {}
        # One lock for the table and the files: a close never removes a folder a restart fills.
        self._changed = threading.Condition(threading.RLock())
        self._waiters = 0  # playlist requests waiting: the scan runs fast meanwhile
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ session control
    def ensure(self, camera_id: int, source_url: str, transport: str = "tcp") -> Path:
        """Start the camera's session unless it runs; count it as requested now.

        Idempotent: a running session is kept (restarted only if the source changed).

        Args:
            camera_id: the camera.
            source_url: the camera URL as stored (vetted here, and by the remux at open).
            transport: RTSP lower transport.

        Returns:
            The path of the session's playlist (it appears a few seconds after a start).

        Raises:
            HlsDisabled: HLS is switched off.
            HlsRefused: the policy refuses the camera's source (any session is closed).
            HlsCapacity: `max_sessions` other sessions already run.
        """
        if not self.enabled:
            raise HlsDisabled("HLS live streaming is disabled on this server (hls_enabled).")
        try:
            check_source(source_url, self.policy)
        except SourceRefused as exc:
            self.close(camera_id)
            raise HlsRefused(redact_text(f"The camera's source is refused: {exc}",
                                         [source_url])) from None
        with self._changed:
            session = self._sessions.get(camera_id)
            if session is None:
                if len(self._sessions) >= self.max_sessions:
                    raise HlsCapacity(
                        f"All {self.max_sessions} HLS live sessions are in use; "
                        "close another live view and retry."
                    )
                session = _Session(camera_id, source_url, transport, self.root / str(camera_id))
                self._sessions[camera_id] = session
                self._spawn(session)
                log.info("camera %s: HLS session started", camera_id)
            elif (session.source, session.transport) != (source_url, transport):
                log.info("camera %s: HLS source changed, restarting the session", camera_id)
                self._terminate(session)
                session.source, session.transport = source_url, transport
                session.failures = 0
                self._spawn(session)
            session.last_request = self._clock()
            return session.folder / PLAYLIST

    def touch(self, camera_id: int) -> bool:
        """Count a request for the camera's session now; False when none runs."""
        with self._changed:
            session = self._sessions.get(camera_id)
            if session is None:
                return False
            session.last_request = self._clock()
            return True

    def close(self, camera_id: int) -> bool:
        """Stop the camera's session and remove its folder; False when none ran (idempotent)."""
        with self._changed:
            session = self._sessions.pop(camera_id, None)
            if session is None:
                return False
            self._terminate(session)
            shutil.rmtree(session.folder, ignore_errors=True)
            self._changed.notify_all()
        log.info("camera %s: HLS session closed", camera_id)
        return True

    def close_all(self) -> list[int]:
        """Close every session; returns their camera ids."""
        with self._changed:
            camera_ids = list(self._sessions)
            for camera_id in camera_ids:
                self.close(camera_id)
        return camera_ids

    def stop_all(self) -> None:
        """Close every session and stop the background thread (shutdown)."""
        self._stop.set()
        self._wake.set()
        self.close_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def wait_ready(self, camera_id: int, timeout: float) -> bool:
        """Wait up to `timeout` s until the session's playlist is playable; False if not."""
        with self._changed:
            self._changed.wait_for(lambda: self._settled(camera_id), timeout=max(0.0, timeout))
            session = self._sessions.get(camera_id)
            return session is not None and session.ready

    def playlist(self, camera_id: int, timeout: float) -> str | None:
        """The session's playlist once playable (waiting up to `timeout` s), else None.

        Blocking reload: when an earlier answer already listed the newest segment, wait up to
        `FRESH_WAIT_S` for the next one, so that a player re-fetching right away always sees
        the live edge move.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._changed:
            self._waiters += 1
            self._wake.set()
            try:
                if not self.wait_ready(camera_id, deadline - time.monotonic()):
                    return None

                def fresh() -> bool:
                    session = self._sessions.get(camera_id)
                    return session is None or not session.ready or session.newest > session.served

                fresh_for = min(FRESH_WAIT_S, max(0.0, deadline - time.monotonic()))
                self._changed.wait_for(fresh, timeout=fresh_for)
                session = self._sessions.get(camera_id)
                if session is None or not session.ready:
                    return None
                try:
                    text = (session.folder / PLAYLIST).read_text(errors="replace")
                except OSError:
                    return None
                count, newest = _listed(text)
                if count == 0:
                    return None
                session.served = max(session.served, newest)
                return text
            finally:
                self._waiters -= 1

    def _settled(self, camera_id: int) -> bool:
        session = self._sessions.get(camera_id)
        return session is None or session.ready

    # ------------------------------------------------------------------ maintenance
    def scan(self) -> None:
        """Read every running session's playlist: mark it ready, note its newest segment."""
        with self._changed:
            changed = False
            for session in list(self._sessions.values()):
                if session.process is None or session.process.poll() is not None:
                    continue
                try:
                    text = (session.folder / PLAYLIST).read_text(errors="replace")
                except OSError:
                    continue
                count, newest = _listed(text)
                if newest != session.newest:
                    session.newest, changed = newest, True
                if not session.ready and count >= READY_SEGMENTS:
                    session.ready, session.last_error, changed = True, "", True
                    log.info(
                        "camera %s: HLS playlist ready after %.1f s",
                        session.camera_id,
                        self._clock() - session.started_at,
                    )
                if newest >= LAST_SEGMENT_NUMBER:
                    log.info(
                        "camera %s: HLS segment numbers exhausted, restarting", session.camera_id
                    )
                    self._terminate(session)
                    session.restarts += 1
                    self._spawn(session)
                    changed = True
            if changed:
                self._changed.notify_all()

    def reap_idle(self, now: float | None = None) -> list[int]:
        """Close sessions with no request for `idle_seconds`; returns their camera ids."""
        now = self._clock() if now is None else now
        with self._changed:
            idle = [
                camera_id
                for camera_id, session in self._sessions.items()
                if now - session.last_request >= self.idle_seconds
            ]
            for camera_id in idle:
                log.info("camera %s: HLS session idle for %.0f s", camera_id, self.idle_seconds)
                self.close(camera_id)
        return idle

    def restart_dead(self, now: float | None = None) -> list[int]:
        """Restart sessions whose remux exited (after a backoff); returns their camera ids."""
        now = self._clock() if now is None else now
        restarted = []
        with self._changed:
            for session in self._sessions.values():
                process = session.process
                if process is None or process.poll() is None:
                    continue
                if session.exited_at is None:
                    self._record_exit(session, now)
                    assert session.exited_at is not None
                delay = RESTART_BACKOFF_S[min(session.failures, len(RESTART_BACKOFF_S)) - 1]
                if now - session.exited_at < delay:
                    continue
                session.restarts += 1
                self._spawn(session)
                restarted.append(session.camera_id)
        return restarted

    def sessions(self) -> list[dict[str, Any]]:
        """A view of every session: camera, pid, running, ready, idle time, restarts, error."""
        now = self._clock()
        with self._changed:
            return [
                {
                    "camera_id": s.camera_id,
                    "pid": s.process.pid if s.process is not None else None,
                    "running": s.process is not None and s.process.poll() is None,
                    "ready": s.ready,
                    "age_s": round(now - s.started_at, 1),
                    "idle_s": round(now - s.last_request, 1),
                    "restarts": s.restarts,
                    "last_error": s.last_error,
                }
                for s in self._sessions.values()
            ]

    def last_error(self, camera_id: int) -> str:
        """The remux's last complaint for the camera's session ('' when none)."""
        with self._changed:
            session = self._sessions.get(camera_id)
            return session.last_error if session is not None else ""

    # ------------------------------------------------------------------ background thread
    def start(self) -> None:
        """Run readiness checks, restarts and idle reaping in a daemon thread until stop_all."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="hls-sessions", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
                self.restart_dead()
                self.reap_idle()
            except Exception:  # noqa: BLE001 - the loop must survive one bad session
                log.exception("HLS maintenance failed")
            with self._changed:
                hurry = self._waiters > 0 or any(not s.ready for s in self._sessions.values())
            self._wake.wait(FAST_TICK_S if hurry else TICK_S)
            self._wake.clear()

    # ------------------------------------------------------------------ processes
    def _spawn(self, session: _Session) -> None:
        # A finished run ends its playlist with ENDLIST: a restart must not serve the old one.
        shutil.rmtree(session.folder, ignore_errors=True)
        session.folder.mkdir(parents=True, exist_ok=True)
        with open(session.folder / REMUX_LOG, "wb") as errors:
            process = subprocess.Popen(
                remux_command(session.folder, self.python),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                # No preexec_fn: Python code between fork and exec in a threaded process can
                # block on a lock another thread held at the fork, hanging this thread and
                # every caller waiting on the sessions' lock (it hung a test run). The child
                # ties its life to ours itself (`hls_remux.die_with_parent`).
            )
        assert process.stdin is not None
        try:  # one short line: fits the pipe's buffer, never blocks
            process.stdin.write(job_line(session.source, session.transport, self.policy))
            process.stdin.close()
        except OSError as exc:  # the child died at once; noticed and restarted like any exit
            log.warning("camera %s: HLS remux did not take its job: %s", session.camera_id, exc)
        session.process = process
        session.started_at = self._clock()
        session.exited_at = None
        session.ready = False
        session.newest = session.served = -1  # numbering starts again at seg00000

    def _terminate(self, session: _Session) -> None:
        process = session.process
        session.process = None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _record_exit(self, session: _Session, now: float) -> None:
        assert session.process is not None
        ran = now - session.started_at
        session.failures = session.failures + 1 if ran < STABLE_RUN_S else 1
        status = session.process.returncode
        ending = "the source ended the stream" if status == 0 else f"remux exit status {status}"
        # The remux words its reason without credentials; FFmpeg's own lines might not.
        tail = _tail(session.folder / REMUX_LOG) or ending
        session.last_error = redact_text(tail, [session.source])
        session.exited_at = now
        self._changed.notify_all()
        # A finished run ends its playlist (ENDLIST): players must not see it as the end.
        session.ready = False
        (session.folder / PLAYLIST).unlink(missing_ok=True)
        log.warning(
            "camera %s: HLS remux exited after %.1f s (%s); restarting",
            session.camera_id,
            ran,
            session.last_error,
        )


def _listed(playlist: str) -> tuple[int, int]:
    """How many segments a playlist lists, and the number of the newest (-1 when none)."""
    numbers = [int(line[3:8]) for line in playlist.splitlines() if _SEGMENT_LINE.fullmatch(line)]
    return len(numbers), max(numbers, default=-1)


def _tail(path: Path, limit: int = 300) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - limit))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
