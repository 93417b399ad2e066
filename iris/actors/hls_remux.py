"""One run of an HLS session: PyAV stream copy from a camera into a playlist (no Ray import).

`HlsSessions` runs ``python -m iris.actors.hls_remux <folder>`` for each run of a session and
writes the job (camera URL, transport, source policy) as one JSON line to its stdin, so the URL
and its password never appear on a command line (`ps` shows those to every local user) or in
an environment. The child vets and opens the source the way camera ingest does
(`iris.actors.ingest.open_source`: policy checked at open time, protocol whitelist, timeouts),
plays a local file in a loop at real-time pace, and copies video (and the first MP4-compatible
audio track) into ``index.m3u8`` + ``seg%05d.ts``, without transcoding.

A child, not a thread: a remux stuck inside FFmpeg can be killed, a demuxer crash ends one
session and not the session manager, and the child dies with its parent (it sets
PR_SET_PDEATHSIG first thing, and leaves at once when the job's parent is already gone).

Exit status: 0 when the source ended the stream, 1 when it failed, 2 when the policy refused
it; the reason, without credentials, is the last line on stderr.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from iris.actors.ingest import IngestOptions, StreamReader
from iris.sources import SourcePolicy, SourceRefused

PLAYLIST = "index.m3u8"
SEGMENT_FILES = "seg%05d.ts"  # the routes serve `seg[0-9]{5}.ts` and nothing else
READ_TIMEOUT_S = 5.0  # a stalled camera ends the run (and the session restarts it)
EXIT_ENDED, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGKILL this process when its parent exits (Linux; elsewhere close/stop_all stop it)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not glibc Linux
        return
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def hls_options(folder: Path) -> dict[str, str]:
    """FFmpeg's HLS muxer: 1 s segments, six in the playlist, old ones deleted."""
    return {
        "hls_time": "1",
        "hls_list_size": "6",
        # temp_file: segments appear under their final name only once complete.
        "hls_flags": "delete_segments+temp_file",
        "hls_segment_filename": str(folder / SEGMENT_FILES),
    }


def job_line(url: str, transport: str, policy: SourcePolicy, parent: int | None = None) -> bytes:
    """The job a child reads from stdin: one JSON line; `parent` (default: this process) is
    the pid the child must still have as its parent once it tied its life to it."""
    job = {
        "parent": os.getpid() if parent is None else parent,
        "url": url, "transport": transport, "allow_http": policy.allow_http,
        "local_dir": str(policy.local_dir) if policy.local_dir is not None else None,
        "tls_verify": policy.tls_verify,
        "ca_file": str(policy.ca_file) if policy.ca_file is not None else None,
    }
    return (json.dumps(job) + "\n").encode()


def read_job(line: str) -> tuple[IngestOptions, int]:
    """The ingest options of a job line (packets only, no decoding) and the pid it names as
    the child's parent."""
    job: dict[str, Any] = json.loads(line)
    policy = SourcePolicy(
        allow_http=bool(job["allow_http"]),
        local_dir=Path(job["local_dir"]) if job["local_dir"] else None,
        tls_verify=bool(job["tls_verify"]),
        ca_file=Path(job["ca_file"]) if job["ca_file"] else None,
    )
    options = IngestOptions(url=job["url"], transport=job["transport"],
                            timeout_s=READ_TIMEOUT_S, decode=False, policy=policy)
    return options, int(job["parent"])


class HlsWriter:
    """An `IngestSink` that stream-copies packets into an HLS playlist in `folder`.

    Output starts at the first video keyframe (every segment must start with one); timestamps
    of all streams are rebased to it; packets without timestamps or with a non-increasing DTS
    are dropped, as the muxer would refuse them.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._output: av.container.OutputContainer | None = None
        self._streams: dict[int, Any] = {}
        self._video_index = -1
        self._origin: Fraction | None = None  # media time (s) of the first keyframe
        self._last_dts: dict[int, int] = {}
        self.packets = 0

    def on_open(self, container_streams: list) -> None:
        self.close()
        self._output = av.open(str(self.folder / PLAYLIST), "w", format="hls",
                               options=hls_options(self.folder))
        self._streams = {s.index: self._output.add_stream_from_template(s)
                         for s in container_streams}
        self._video_index = container_streams[0].index
        self._origin, self._last_dts = None, {}

    def on_packet(self, packet: av.Packet) -> None:
        output, out = self._output, self._streams.get(packet.stream_index)
        ts = packet.dts if packet.dts is not None else packet.pts
        if output is None or out is None or ts is None or packet.time_base is None:
            return
        if self._origin is None:
            if packet.stream_index != self._video_index or not packet.is_keyframe:
                return
            self._origin = ts * packet.time_base
        shift = round(self._origin / packet.time_base)
        dts = ts - shift
        last = self._last_dts.get(packet.stream_index)
        if dts < 0 or (last is not None and dts <= last):
            return
        pts = packet.pts - shift if packet.pts is not None else dts
        packet.dts, packet.pts = dts, max(pts, dts)
        packet.stream = out
        output.mux(packet)
        self._last_dts[packet.stream_index] = dts
        self.packets += 1

    def on_frame(self, frame: av.VideoFrame, wall_time: float) -> None:
        """Not decoding: never called."""

    def on_status(self, status: str, reason: str | None) -> None:
        """`StreamReader.run_once` reports no status."""

    def close(self) -> None:
        """Finish the playlist (the session manager discards it anyway)."""
        output, self._output = self._output, None
        if output is not None:
            try:
                output.close()
            except (av.FFmpegError, OSError):
                pass  # a source that failed mid-segment: the run ends regardless


def main(argv: list[str] | None = None) -> int:
    """Run one remux: folder from the command line, job from stdin; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0])
    die_with_parent()  # before anything that takes time
    line = sys.stdin.readline()  # empty when the parent died before writing it
    options, parent = read_job(line) if line else (None, None)
    if options is None or os.getppid() != parent:  # or before the prctl above took hold
        print("the session owner is gone", file=sys.stderr, flush=True)
        return EXIT_FAILED
    writer = HlsWriter(folder)
    reader = StreamReader(options, writer)
    status, reason = EXIT_ENDED, "the source ended the stream"
    try:
        reader.run_once()
    except SourceRefused as exc:
        status, reason = EXIT_REFUSED, reader.describe(exc)
    except Exception as exc:  # noqa: BLE001 - any failure ends the run with its reason
        status, reason = EXIT_FAILED, reader.describe(exc)
    finally:
        writer.close()
    print(reason, file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
