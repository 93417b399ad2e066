#!/usr/bin/python3
"""A live RTSP camera for tests whose every frame shows the wall-clock time it was made.

Run with Debian's ``/usr/bin/python3`` (it has ``gi``), not the project venv::

    /usr/bin/python3 tests/support/clock_camera_server.py --port 8554 \
        [--width 640 --height 360 --fps 15 --codec h264|h265 --audio none|aac|pcma|pcmu|opus]

Serves ``rtsp://127.0.0.1:<port>/cam`` over TCP. Frames are generated live (appsrc), encoded
by x264/x265 with a GOP of one second, and carry the time as a row of black/white blocks (see
``tests/support/clock_camera.py`` for the layout and the decoder), so a test can read back
*when* a played frame was made: glass-to-glass latency, or which moment a recording shows.
A bar sweeps across the lower half so motion detection sees movement. Audio, when asked for,
is a live sine tone in the chosen codec (G.711 A-law/µ-law are what many cameras send).
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MOUNT = "/cam"
BITS = 64  # 48 bits of epoch milliseconds + 16 bits of check (clock_camera.py)
TIME_BITS = 48
MARGIN = 8  # pixels of grey above and around the code row

# Audio comes from a second appsrc fed on the video's timer: a live source that (like the video)
# cannot seek, or gst-rtsp-server's PLAY fails its seek on the mixed media. (rate, encoder)
AUDIO = {
    "aac": (16000, "avenc_aac ! aacparse ! rtpmp4gpay name=pay1 pt=97"),
    "pcma": (8000, "alawenc ! rtppcmapay name=pay1"),
    "pcmu": (8000, "mulawenc ! rtppcmupay name=pay1"),
    "opus": (48000, "opusenc ! rtpopuspay name=pay1 pt=98"),
}


def tone(rate: int, fps: int, frequency: int = 400) -> bytes:
    """One video frame's worth of a sine tone as S16LE mono (a whole number of cycles)."""
    samples = rate // fps
    return b"".join(
        int(8000 * math.sin(2 * math.pi * frequency * i / rate)).to_bytes(2, "little", signed=True)
        for i in range(samples))


def check_bits(value: int) -> int:
    """16 check bits over the 48 time bits (the decoder refuses codes that do not match)."""
    folded = (value ^ (value >> 16) ^ (value >> 32)) & 0xFFFF
    return folded ^ 0xA5C3


def code_of(epoch_ms: int) -> int:
    value = epoch_ms & ((1 << TIME_BITS) - 1)
    return (value << 16) | check_bits(value)


class Frames:
    """Builds GRAY8 frames: the code row at the top, a sweeping bar below."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.cell = (width - 2 * MARGIN) // BITS
        self.code_height = max(12, height // 12)
        self.index = 0

    def frame(self, epoch_ms: int) -> bytes:
        width, height, cell = self.width, self.height, self.cell
        code = code_of(epoch_ms)
        row = bytearray([128]) * width
        for bit in range(BITS):
            on = (code >> (BITS - 1 - bit)) & 1
            start = MARGIN + bit * cell
            row[start:start + cell] = bytes([255 if on else 0]) * cell
        top = bytes([128]) * (width * MARGIN)
        code_rows = bytes(row) * self.code_height
        rest_height = height - MARGIN - self.code_height
        # A bar a tenth of the width, sweeping once every four seconds.
        bar_width = max(8, width // 10)
        x = int((self.index % (4 * self.fps)) / (4 * self.fps) * (width - bar_width))
        plain = bytes([96]) * width
        barred = bytearray(plain)
        barred[x:x + bar_width] = bytes([230]) * bar_width
        lower = rest_height // 2
        body = plain * (rest_height - lower) + bytes(barred) * lower
        self.index += 1
        return top + code_rows + body


class ClockCamera(GstRtspServer.RTSPMediaFactory):
    """Media factory: appsrc (frames pushed on a timer) → encoder → RTP (+ audio)."""

    def __init__(self, width: int, height: int, fps: int, codec: str, audio: str) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.codec, self.audio = codec, audio

    def do_create_element(self, url: GstRtspServer.RTSPUrl) -> Gst.Element:
        caps = (f"video/x-raw,format=GRAY8,width={self.width},height={self.height},"
                f"framerate={self.fps}/1")
        if self.codec == "h265":
            encode = (f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={self.fps} "
                      "! video/x-h265,profile=main ! h265parse "
                      "! rtph265pay name=pay0 pt=96 config-interval=-1")
        else:
            encode = (f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={self.fps} "
                      "bframes=0 threads=1 ! video/x-h264,profile=baseline ! h264parse "
                      "! rtph264pay name=pay0 pt=96 config-interval=-1")
        launch = (f"appsrc name=src is-live=true format=time do-timestamp=true caps={caps} "
                  f"! videoconvert ! video/x-raw,format=I420 ! {encode}")
        chunk = b""
        if self.audio != "none":
            rate, encoder = AUDIO[self.audio]
            chunk = tone(rate, self.fps)
            launch += (f" appsrc name=asrc is-live=true format=time do-timestamp=true "
                       f"caps=audio/x-raw,format=S16LE,rate={rate},channels=1,layout=interleaved "
                       f"! audioconvert ! audioresample ! {encoder}")
        bin_ = Gst.parse_launch(f"( {launch} )")
        source = bin_.get_by_name("src")
        audio_source = bin_.get_by_name("asrc")
        frames = Frames(self.width, self.height, self.fps)
        period_ms = max(1, round(1000 / self.fps))

        def push() -> bool:
            data = frames.frame(int(time.time() * 1000))
            buffer = Gst.Buffer.new_wrapped(data)
            buffer.duration = Gst.SECOND // self.fps
            if audio_source is not None:
                audio_source.emit("push-buffer", Gst.Buffer.new_wrapped(chunk))
            return source.emit("push-buffer", buffer) == Gst.FlowReturn.OK

        timer = [0]

        def start(*_args: object) -> None:
            if not timer[0]:
                timer[0] = GLib.timeout_add(period_ms, push)

        def stop(*_args: object) -> None:
            if timer[0]:
                GLib.source_remove(timer[0])
                timer[0] = 0

        source.connect("need-data", start)
        source.connect("enough-data", stop)
        return bin_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--codec", choices=("h264", "h265"), default="h264")
    parser.add_argument("--audio", choices=("none", *AUDIO), default="none")
    args = parser.parse_args(argv)

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = ClockCamera(args.width, args.height, args.fps, args.codec, args.audio)
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    server.get_mount_points().add_factory(MOUNT, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"rtsp://127.0.0.1:{args.port}{MOUNT}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
