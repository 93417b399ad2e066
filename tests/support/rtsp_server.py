#!/usr/bin/python3
"""A real RTSP camera for tests: gst-rtsp-server looping an H.264 Annex-B file (+ AAC audio).

Run with Debian's ``/usr/bin/python3`` (it has ``gi``), not the project venv::

    /usr/bin/python3 tests/support/rtsp_server.py --port 8554 --video clip.h264 \
        [--audio-mp4 clip.mp4] [--fps 25]

Serves ``rtsp://127.0.0.1:<port>/cam`` over TCP only, one shared media for all clients.
Annex-B has no timestamps, so a probe after ``h264parse`` stamps every access unit with
PTS = DTS = n / fps; the server's sinks sync to the clock, which paces the stream to real time
across file loops. Audio comes from ``ffmpeg -re -stream_loop -1`` as MPEG-TS over UDP loopback
(multifilesrc cannot loop a .ts: it seeks).
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import socket
import subprocess
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MOUNT = "/cam"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # The audio feeder must not outlive us when a test SIGKILLs the server.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Camera(GstRtspServer.RTSPMediaFactory):
    """Media factory building the looping H.264 (+AAC) pipeline and restamping video."""

    def __init__(self, video: str, fps: int, audio_port: int | None) -> None:
        super().__init__()
        self.video = video
        self.fps = fps
        self.audio_port = audio_port
        self.frame_ns = Gst.SECOND // fps

    def do_create_element(self, url: GstRtspServer.RTSPUrl) -> Gst.Element:
        launch = (
            f'multifilesrc location="{self.video}" loop=true '
            "caps=video/x-h264,stream-format=byte-stream "
            "! h264parse name=parse ! video/x-h264,alignment=au,stream-format=byte-stream "
            "! rtph264pay name=pay0 pt=96 config-interval=0"
        )
        if self.audio_port is not None:
            launch += (
                f" udpsrc address=127.0.0.1 port={self.audio_port} "
                "caps=video/mpegts,systemstream=true,packetsize=188 "
                "! queue ! tsdemux ! aacparse ! rtpmp4gpay name=pay1 pt=97"
            )
        bin_ = Gst.parse_launch(f"( {launch} )")
        # A fresh counter per pipeline: a re-prepared media starts its clock at zero again.
        counter = [0]

        def restamp(pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
            buffer = info.get_buffer()
            if buffer is not None:
                buffer.pts = buffer.dts = counter[0] * self.frame_ns
                buffer.duration = self.frame_ns
                counter[0] += 1
            return Gst.PadProbeReturn.OK

        bin_.get_by_name("parse").get_static_pad("src").add_probe(
            Gst.PadProbeType.BUFFER, restamp
        )
        return bin_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--video", required=True, help="H.264 Annex-B elementary stream")
    parser.add_argument("--audio-mp4", help="MP4 whose AAC track is served as audio")
    parser.add_argument("--fps", type=int, default=25)
    args = parser.parse_args(argv)

    Gst.init(None)
    feeder = None
    audio_port = None
    if args.audio_mp4:
        audio_port = free_udp_port()
        feeder = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1",
             "-i", args.audio_mp4, "-vn", "-c:a", "copy", "-f", "mpegts",
             f"udp://127.0.0.1:{audio_port}?pkt_size=1316"],
            preexec_fn=_die_with_parent,
        )

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = Camera(args.video, args.fps, audio_port)
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
    try:
        loop.run()
    finally:
        if feeder is not None:
            feeder.terminate()
            feeder.wait(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
