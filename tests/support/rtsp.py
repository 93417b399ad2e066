"""Start, stop, kill, freeze and thaw the real RTSP test camera (tests/support/rtsp_server.py).

Pure Python, usable from the project venv: the server itself runs under Debian's
``/usr/bin/python3`` (which has GStreamer's ``gi`` bindings) as a subprocess.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gstreamer_available() -> bool:
    """True when the system Python can load gst-rtsp-server (tests skip otherwise)."""
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); " \
            "from gi.repository import GstRtspServer"
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


class RtspServer:
    """A looping H.264 (+AAC) RTSP camera at ``rtsp://127.0.0.1:<port>/cam`` (TCP only).

    ``video`` is an Annex-B H.264 file (see ``media.to_annexb``); ``audio_mp4`` an MP4 whose
    AAC track is served as a second stream. The port is kept across ``stop``/``kill`` and
    ``start``, so a reader pointed at ``url`` can reconnect to the restarted camera.
    """

    def __init__(
        self,
        video: str | Path,
        audio_mp4: str | Path | None = None,
        fps: int = 25,
        port: int | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        self.video = Path(video)
        self.audio_mp4 = Path(audio_mp4) if audio_mp4 is not None else None
        self.fps = fps
        self.port = port if port is not None else free_tcp_port()
        self.log_path = Path(log_path) if log_path is not None else None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The RTSP URL of the camera."""
        return f"rtsp://127.0.0.1:{self.port}/cam"

    @property
    def running(self) -> bool:
        """True while the server process exists (a frozen server counts as running)."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 20.0) -> RtspServer:
        """Launch the server and wait until it accepts TCP connections on its port."""
        if self.running:
            return self
        command = self.command()
        if self.log_path is not None:
            with open(self.log_path, "ab") as log:
                self._process = subprocess.Popen(command, stdout=log, stderr=log,
                                                 start_new_session=True)
        else:
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"RTSP server exited with {self._process.returncode} (log: {self.log_path})"
                )
            if self._accepts_connections():
                return self
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"RTSP server did not listen on port {self.port} within {timeout} s")

    def command(self) -> list[str]:
        """The server process to run (subclasses serve other sources)."""
        command = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port),
                   "--video", str(self.video), "--fps", str(self.fps)]
        if self.audio_mp4 is not None:
            command += ["--audio-mp4", str(self.audio_mp4)]
        return command

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server gracefully (SIGTERM, SIGKILL after ``timeout``)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self.resume()  # a frozen process cannot handle SIGTERM
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL the server: clients see their connection drop without a TEARDOWN."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        self._process = None

    def pause(self) -> None:
        """SIGSTOP the server: connections stay open but no data flows (a stalled camera)."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        self._signal(signal.SIGCONT)

    def _signal(self, signum: int) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signum)

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
